"""Object store on any S3-compatible endpoint (MinIO, AWS S3, Ceph RGW, SeaweedFS).

Path-style addressing (MinIO needs it), bounded retries and timeouts, multipart uploads for large
objects, conditional writes (``If-Match`` / ``If-None-Match``) for records that several replicas
update. Connection failures and server errors become :class:`StorageUnavailable`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from storage.base import CHUNK_SIZE, ObjectInfo, ObjectStore
from storage.errors import (
    ObjectNotFound,
    ObjectTooLarge,
    PreconditionFailed,
    StorageError,
    StorageUnavailable,
)
from storage.streams import iter_source

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_PRECONDITION = {"412", "PreconditionFailed", "ConditionalRequestConflict"}
_MULTIPART_THRESHOLD = 16 * 1024 * 1024


class S3Store(ObjectStore):
    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        prefix: str = "",
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 30.0,
        max_attempts: int = 3,
        create_bucket: bool = False,
    ):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        config = Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            signature_version="s3v4",
        )
        # Credentials come from the standard AWS_* environment (or instance roles), never config.
        self._client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region or "us-east-1", config=config
        )
        self._transfer = TransferConfig(multipart_threshold=_MULTIPART_THRESHOLD, use_threads=False)
        if create_bucket:
            self._ensure_bucket()

    def __repr__(self) -> str:
        return f"S3Store(bucket={self.bucket!r}, endpoint={self.endpoint_url!r})"

    def _key(self, key: str) -> str:
        return self.prefix + key

    def _call(self, what: str, key: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            raise self._translate(exc, what, key) from None
        except BotoCoreError as exc:
            raise StorageUnavailable(
                f"object store unreachable during {what}: {type(exc).__name__}"
            ) from None

    def _translate(self, exc: ClientError, what: str, key: str) -> StorageError:
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        http = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in _NOT_FOUND or (http == 404 and code != "NoSuchBucket"):
            return ObjectNotFound(f"no object {key!r}")
        if code in _PRECONDITION or http in (409, 412):
            return PreconditionFailed(f"{key!r} changed since it was read")
        if code == "NoSuchBucket":
            return StorageUnavailable(f"bucket {self.bucket!r} does not exist")
        if http >= 500 or code in ("SlowDown", "ServiceUnavailable", "RequestTimeout"):
            return StorageUnavailable(f"object store failed during {what} ({code or http})")
        return StorageError(f"object store refused {what} of {key!r} ({code or http})")

    def _ensure_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self._call("create_bucket", "", self._client.create_bucket)
        except BotoCoreError as exc:
            raise StorageUnavailable(f"object store unreachable: {type(exc).__name__}") from None

    def put(
        self,
        key: str,
        data: bytes | BinaryIO | Iterable[bytes],
        *,
        max_bytes: int | None = None,
        content_type: str | None = None,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> ObjectInfo:
        extra: dict[str, str] = {"ContentType": content_type} if content_type else {}
        if isinstance(data, bytes | bytearray) or if_match or if_none_match:
            body = b"".join(iter_source(data))
            if max_bytes is not None and len(body) > max_bytes:
                raise ObjectTooLarge(f"more than {max_bytes} bytes")
            if if_match:
                extra["IfMatch"] = if_match
            if if_none_match:
                extra["IfNoneMatch"] = "*"
            resp = self._call("put", key, self._client.put_object, Key=self._key(key), Body=body, **extra)
            # The answer's ETag is this write's; a HEAD afterwards could see a later writer's.
            return ObjectInfo(key, len(body), str(resp.get("ETag", "")), content_type=content_type)
        reader = _CappedReader(iter_source(data), max_bytes)
        try:
            self._client.upload_fileobj(
                reader, self.bucket, self._key(key), ExtraArgs=extra or None, Config=self._transfer
            )
        except ObjectTooLarge:
            raise
        except ClientError as exc:
            raise self._translate(exc, "upload", key) from None
        except Exception as exc:  # BotoCoreError, or the reader's error wrapped by the transfer
            if isinstance(exc.__cause__ or exc.__context__, ObjectTooLarge) or reader.overflowed:
                raise ObjectTooLarge(f"more than {max_bytes} bytes") from None
            raise StorageUnavailable(f"upload of {key!r} failed: {type(exc).__name__}") from None
        return self.head(key)

    def get(self, key: str) -> tuple[bytes, ObjectInfo]:
        resp = self._call("get", key, self._client.get_object, Key=self._key(key))
        return resp["Body"].read(), self._info(key, resp)

    def iter_chunks(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        resp = self._call("get", key, self._client.get_object, Key=self._key(key))
        body = resp["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def head(self, key: str) -> ObjectInfo:
        resp = self._call("head", key, self._client.head_object, Key=self._key(key))
        return self._info(key, resp)

    @staticmethod
    def _info(key: str, resp: dict[str, Any]) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=int(resp.get("ContentLength", 0)),
            etag=str(resp.get("ETag", "")),
            last_modified=resp.get("LastModified"),
            content_type=resp.get("ContentType"),
        )

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Prefix": self._key(prefix)}
            if token:
                kwargs["ContinuationToken"] = token
            resp = self._call("list", prefix, self._client.list_objects_v2, **kwargs)
            for item in resp.get("Contents", []):
                yield ObjectInfo(
                    key=item["Key"][len(self.prefix) :],
                    size=int(item["Size"]),
                    etag=str(item.get("ETag", "")),
                    last_modified=item.get("LastModified"),
                )
            if not resp.get("IsTruncated"):
                return
            token = resp.get("NextContinuationToken")

    def delete(self, key: str) -> None:
        self._call("delete", key, self._client.delete_object, Key=self._key(key))

    def presigned_url(self, key: str, expires_s: int = 3600) -> str | None:
        return str(
            self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": self._key(key)}, ExpiresIn=expires_s
            )
        )

    def check(self) -> None:
        self._call("head_bucket", "", self._client.head_bucket)


class _CappedReader(io.RawIOBase):
    """A file-like view over byte chunks that refuses to yield more than ``max_bytes``."""

    def __init__(self, chunks: Iterator[bytes], max_bytes: int | None):
        self._chunks = chunks
        self._buffer = b""
        self._max = max_bytes
        self._seen = 0
        self.overflowed = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._seen += len(chunk)
            if self._max is not None and self._seen > self._max:
                self.overflowed = True
                raise ObjectTooLarge(f"more than {self._max} bytes")
            self._buffer += chunk
        if size < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out
