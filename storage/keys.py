"""The object-key layout, built in one place, and validation of everything that becomes a key."""

from __future__ import annotations

import os
import re
import threading
import time
import unicodedata
import uuid

from storage.errors import InvalidKey

_TASK_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

TASKS_PREFIX = "tasks/"
QUEUE_PREFIX = "queue/"
UPLOADS_PREFIX = "uploads/"
RESULTS_PREFIX = "results/"
MODELS_PREFIX = "models/"


class InvalidTaskId(InvalidKey):
    code = "invalid_task_id"
    status = 400


_last_id_value = 0
_id_lock = threading.Lock()


def new_task_id() -> str:
    """A UUIDv7 (RFC 9562: 48-bit ms time, 12-bit sub-ms fraction, random tail), strictly increasing
    within a process, so task ids sort by creation time and listings come out newest first."""
    global _last_id_value
    ns = time.time_ns()
    ms, sub = divmod(ns, 1_000_000)
    value = (ms << 80) | (0x7 << 76) | ((sub * 4096 // 1_000_000) << 64)
    value |= (0b10 << 62) | int.from_bytes(os.urandom(8), "big") >> 2
    with _id_lock:
        if value <= _last_id_value:
            value = _last_id_value + 1
        _last_id_value = value
    return str(uuid.UUID(int=value))


def validate_task_id(task_id: str) -> str:
    """Return ``task_id`` if it is one of ours (a lower-case UUID); anything else is refused."""
    if not isinstance(task_id, str) or not _TASK_ID.match(task_id):
        raise InvalidTaskId("task_id must be a UUID like 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
    return task_id


def safe_filename(name: str | None, default: str = "upload") -> str:
    """A file name that is safe as one key segment: no directories, ASCII, at most 100 chars, and the
    extension kept when there is one (``会议.wav`` becomes ``upload.wav``)."""
    base = (name or "").replace("\\", "/").split("/")[-1]
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem.strip(". ") or len(ext) > 10:
        stem, ext = base, ""
    stem = _ascii_segment(stem)[: 100 - len(ext) - 1] or default
    ext = _ascii_segment(ext)
    return f"{stem}.{ext}" if ext else stem


def _ascii_segment(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _UNSAFE_NAME_CHARS.sub("_", text).strip("._")


def validate_model_name(name: str) -> str:
    if not _MODEL_NAME.match(name or "") or ".." in name:
        raise InvalidKey(f"invalid model name {name!r}")
    return name


def task_key(task_id: str) -> str:
    return f"{TASKS_PREFIX}{validate_task_id(task_id)}.json"


def queue_key(task_id: str) -> str:
    """A marker that exists while a task is unfinished, so runners find work by listing one prefix."""
    return f"{QUEUE_PREFIX}{validate_task_id(task_id)}"


def upload_prefix(task_id: str) -> str:
    return f"{UPLOADS_PREFIX}{validate_task_id(task_id)}/"


def upload_key(task_id: str, filename: str) -> str:
    return upload_prefix(task_id) + safe_filename(filename)


def result_prefix(task_id: str) -> str:
    return f"{RESULTS_PREFIX}{validate_task_id(task_id)}/"


def result_key(task_id: str, file_name: str) -> str:
    return result_prefix(task_id) + safe_filename(file_name)


def model_prefix(name: str) -> str:
    return f"{MODELS_PREFIX}{validate_model_name(name)}/"


def task_id_from_key(key: str, prefix: str) -> str | None:
    """The task id in ``tasks/<id>.json`` or ``queue/<id>``; None for anything else."""
    rest = key[len(prefix) :].removesuffix(".json")
    return rest if _TASK_ID.match(rest) else None
