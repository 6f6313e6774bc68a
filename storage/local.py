"""Object store on the local filesystem, for one machine.

Writes are atomic (temporary file + rename), conditional writes hold a per-key ``flock`` so that
processes on the same machine (Ray replicas) cannot lose each other's updates, and keys are checked
so they can never escape the root directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import mimetypes
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from storage.base import CHUNK_SIZE, ObjectInfo, ObjectStore
from storage.errors import (
    InvalidKey,
    ObjectNotFound,
    ObjectTooLarge,
    PreconditionFailed,
    StorageUnavailable,
)
from storage.streams import iter_source

_INTERNAL = ".auralab"


class LocalStore(ObjectStore):
    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / _INTERNAL / "locks").mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if (
            not key
            or "\x00" in key
            or "\\" in key
            or key.startswith("/")
            or any(p in ("", ".", "..") for p in parts)
            or parts[0] == _INTERNAL
        ):
            raise InvalidKey(f"invalid object key {key!r}")
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise InvalidKey(f"invalid object key {key!r}")
        return path

    @contextlib.contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        name = hashlib.sha256(key.encode()).hexdigest()
        with open(self.root / _INTERNAL / "locks" / name, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @staticmethod
    def _info(key: str, path: Path) -> ObjectInfo:
        try:
            st = path.stat()
        except FileNotFoundError:
            raise ObjectNotFound(f"no object {key!r}") from None
        if not path.is_file():
            raise ObjectNotFound(f"no object {key!r}")
        etag = f"{st.st_mtime_ns:x}-{st.st_size:x}-{st.st_ino:x}"
        modified = datetime.fromtimestamp(st.st_mtime, UTC)
        return ObjectInfo(key, st.st_size, etag, modified, mimetypes.guess_type(key)[0])

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
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                written = 0
                for chunk in iter_source(data):
                    written += len(chunk)
                    if max_bytes is not None and written > max_bytes:
                        raise ObjectTooLarge(f"more than {max_bytes} bytes")
                    out.write(chunk)
            if if_match is None and not if_none_match:
                os.replace(tmp, path)
            else:
                with self._lock(key):
                    self._check_condition(key, path, if_match, if_none_match)
                    os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return self._info(key, path)

    def _check_condition(self, key: str, path: Path, if_match: str | None, if_none_match: bool) -> None:
        try:
            current = self._info(key, path).etag
        except ObjectNotFound:
            current = None
        if if_none_match and current is not None:
            raise PreconditionFailed(f"{key!r} already exists")
        if if_match is not None and current != if_match:
            raise PreconditionFailed(f"{key!r} changed since it was read")

    def get(self, key: str) -> tuple[bytes, ObjectInfo]:
        path = self._path(key)
        info = self._info(key, path)
        try:
            return path.read_bytes(), info
        except FileNotFoundError:
            raise ObjectNotFound(f"no object {key!r}") from None

    def iter_chunks(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        path = self._path(key)
        self._info(key, path)
        with open(path, "rb") as src:
            while chunk := src.read(chunk_size):
                yield chunk

    def head(self, key: str) -> ObjectInfo:
        return self._info(key, self._path(key))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        directory = prefix.rpartition("/")[0]
        start = self._path(directory) if directory else self.root
        if not start.is_dir():
            return
        found: list[ObjectInfo] = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not (Path(dirpath) == self.root and d == _INTERNAL)]
            for name in filenames:
                if name.startswith(".tmp-"):
                    continue
                key = Path(dirpath, name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    with contextlib.suppress(ObjectNotFound):
                        found.append(self._info(key, Path(dirpath, name)))
        yield from sorted(found, key=lambda info: info.key)

    def delete(self, key: str) -> None:
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self._prune_empty_dirs(path.parent)

    def _prune_empty_dirs(self, directory: Path) -> None:
        while directory != self.root and directory.is_relative_to(self.root):
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent

    def check(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise StorageUnavailable(f"storage directory {self.root} is not writable")
