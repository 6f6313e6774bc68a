"""Receiving uploads: a streaming multipart parser that enforces size limits as bytes arrive.

The file part goes to a temporary file (never into memory) and the upload is refused the moment it
passes the limit. Probing needs random access (an mp4's index can sit at its end), so the bytes
are probed on local disk before they are put into the object store.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from deployments.errors import ApiError, BadRequest, PayloadTooLarge, UnsupportedMediaType

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 32
MAX_PART_HEADER_BYTES = 8 * 1024
MAX_PART_HEADERS = 16
# Multipart framing and text fields on top of the file itself.
ENVELOPE_SLACK = 1024 * 1024


class UploadTimeout(ApiError):
    code = "upload_timeout"
    status = 408


@dataclass
class ReceivedForm:
    fields: dict[str, str] = field(default_factory=dict)
    file_path: Path | None = None
    filename: str | None = None
    file_content_type: str | None = None
    size: int = 0

    def cleanup(self) -> None:
        if self.file_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.file_path.unlink()


class _Collector:
    """Parser callbacks: route each part's bytes to a field buffer or to the temp file."""

    def __init__(self, form: ReceivedForm, file_field: str, max_file_bytes: int, tmp_dir: str | None):
        self.form = form
        self.file_field = file_field
        self.max_file_bytes = max_file_bytes
        self.tmp_dir = tmp_dir
        self.headers: dict[str, str] = {}
        self._header_name = b""
        self._header_value = b""
        self._name: str | None = None
        self._buffer = bytearray()
        self._out = None  # the open temp file while the file part streams in

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self.headers, self._name, self._buffer = {}, None, bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]
        self._check_header_size()

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        self._check_header_size()

    def _check_header_size(self) -> None:
        """Part headers are held in memory: keep them small and few."""
        if len(self._header_name) + len(self._header_value) > MAX_PART_HEADER_BYTES:
            raise BadRequest(f"A multipart header is larger than {MAX_PART_HEADER_BYTES // 1024} KiB")
        if len(self.headers) >= MAX_PART_HEADERS:
            raise BadRequest("Too many headers in one multipart part")

    def _header_end(self) -> None:
        self.headers[self._header_name.decode("latin-1").lower()] = self._header_value.decode(
            "utf-8", "replace"
        )
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self.headers.get("content-disposition", "").encode("utf-8"))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        if self._name == self.file_field:
            if self.form.file_path is not None:
                raise BadRequest(f"Send exactly one '{self.file_field}' part")
            fd, path = tempfile.mkstemp(prefix="upload-", dir=self.tmp_dir)
            self._out = os.fdopen(fd, "wb")
            self.form.file_path = Path(path)
            raw_name = params.get(b"filename")
            self.form.filename = raw_name.decode("utf-8", "replace") if raw_name else None
            self.form.file_content_type = self.headers.get("content-type")
        elif len(self.form.fields) >= MAX_FIELDS:
            raise BadRequest("Too many form fields")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._out is not None:
            self.form.size += end - start
            if self.form.size > self.max_file_bytes:
                raise PayloadTooLarge(f"File too large. Maximum size is {_mb(self.max_file_bytes)}.")
            self._out.write(data[start:end])
            return
        self._buffer += data[start:end]
        if len(self._buffer) > MAX_FIELD_BYTES:
            raise PayloadTooLarge(f"Form field '{self._name}' is larger than {MAX_FIELD_BYTES // 1024} KiB")

    def _part_end(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        elif self._name:
            self.form.fields[self._name] = self._buffer.decode("utf-8", "replace")

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


async def receive_multipart(
    request: Request, max_file_bytes: int, file_field: str = "file", tmp_dir: str | None = None
) -> ReceivedForm:
    """Parse a multipart body as it streams in. Raises 415 for other content types, 413 past the
    limit (checked against Content-Length first, then byte by byte), 400 for malformed bodies."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise UnsupportedMediaType(f"Send the file as multipart/form-data in the field '{file_field}'")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_file_bytes + ENVELOPE_SLACK:
        raise PayloadTooLarge(f"File too large. Maximum size is {_mb(max_file_bytes)}.")
    form = ReceivedForm()
    collector = _Collector(form, file_field, max_file_bytes, tmp_dir)
    parser = MultipartParser(params[b"boundary"], callbacks=collector.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except (PayloadTooLarge, BadRequest):
        collector.close()
        form.cleanup()
        raise
    except Exception:
        collector.close()
        form.cleanup()
        raise BadRequest("Malformed multipart body") from None
    collector.close()
    return form


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def multipart_openapi(**fields: str) -> dict:
    """OpenAPI for a route that parses its multipart body itself: a binary ``file`` plus text fields
    (name -> description), so /docs and generated clients show the real form."""
    properties: dict = {"file": {"type": "string", "format": "binary", "description": "audio or video"}}
    properties |= {name: {"type": "string", "description": text} for name, text in fields.items()}
    schema = {"type": "object", "properties": properties, "required": ["file"]}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}
