"""The object-store interface every backend implements.

All methods are blocking (boto3 is); async callers wrap them in ``asyncio.to_thread``.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    last_modified: datetime | None = None
    content_type: str | None = None


class ObjectStore(abc.ABC):
    """A flat key space of immutable-until-replaced objects (S3 semantics)."""

    @abc.abstractmethod
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
        """Store ``data`` under ``key``.

        ``max_bytes`` aborts with :class:`ObjectTooLarge` as soon as more bytes arrive (nothing is
        left behind). ``if_match`` (an etag) and ``if_none_match`` make the write conditional and
        raise :class:`PreconditionFailed` when the condition does not hold.
        """

    @abc.abstractmethod
    def get(self, key: str) -> tuple[bytes, ObjectInfo]:
        """Whole object and its info; :class:`ObjectNotFound` if absent."""

    @abc.abstractmethod
    def iter_chunks(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Stream an object's bytes."""

    @abc.abstractmethod
    def head(self, key: str) -> ObjectInfo:
        """Object info without its bytes; :class:`ObjectNotFound` if absent."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in key order."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove an object; absent objects are not an error."""

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object under ``prefix``; returns how many."""
        keys = [info.key for info in self.list(prefix)]
        for key in keys:
            self.delete(key)
        return len(keys)

    def exists(self, key: str) -> bool:
        from storage.errors import ObjectNotFound

        try:
            self.head(key)
        except ObjectNotFound:
            return False
        return True

    def download_file(self, key: str, path: Path) -> None:
        """Copy an object to a local file (written whole or not at all)."""
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as out:
            for chunk in self.iter_chunks(key):
                out.write(chunk)
        tmp.replace(path)

    def upload_file(self, path: Path, key: str, *, content_type: str | None = None) -> ObjectInfo:
        with open(path, "rb") as src:
            return self.put(key, src, content_type=content_type)

    def presigned_url(self, key: str, expires_s: int = 3600) -> str | None:
        """A URL that grants temporary read access, or None where the backend has none."""
        return None

    @abc.abstractmethod
    def check(self) -> None:
        """Raise :class:`StorageUnavailable` unless the store answers."""
