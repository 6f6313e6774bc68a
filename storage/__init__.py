"""Object storage behind one small interface (S3 or local filesystem), the key layout and the
durable task records. Imports nothing else of ours and no Ray."""

from storage.base import ObjectInfo, ObjectStore
from storage.errors import (
    InvalidKey,
    ObjectNotFound,
    ObjectTooLarge,
    PreconditionFailed,
    StorageError,
    StorageUnavailable,
)
from storage.records import TaskRecord, TaskStatus
from storage.tasks import IllegalTransition, LeaseLost, TaskNotFound, TaskStore

__all__ = [
    "IllegalTransition",
    "InvalidKey",
    "LeaseLost",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "ObjectTooLarge",
    "PreconditionFailed",
    "StorageError",
    "StorageUnavailable",
    "TaskNotFound",
    "TaskRecord",
    "TaskStatus",
    "TaskStore",
    "open_store",
]


def open_store(
    backend: str,
    *,
    root: str | None = None,
    bucket: str | None = None,
    endpoint_url: str | None = None,
    region: str | None = None,
    prefix: str = "",
    create_bucket: bool = False,
) -> ObjectStore:
    """Build the configured backend (imports boto3 only when S3 is used)."""
    if backend == "local":
        from storage.local import LocalStore

        return LocalStore(root or ".data")
    if backend == "s3":
        from storage.s3 import S3Store

        return S3Store(
            bucket or "auralab",
            endpoint_url=endpoint_url,
            region=region,
            prefix=prefix,
            create_bucket=create_bucket,
        )
    raise ValueError(f"unknown storage backend {backend!r} (use 'local' or 's3')")
