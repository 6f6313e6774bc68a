"""Helpers to treat bytes, file objects and iterables of bytes as one kind of source."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO

from storage.base import CHUNK_SIZE


def iter_source(data: bytes | BinaryIO | Iterable[bytes], chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        yield bytes(data)
        return
    read = getattr(data, "read", None)
    if read is not None:
        while chunk := read(chunk_size):
            yield chunk
        return
    for chunk in data:
        if chunk:
            yield chunk
