"""Storage errors. Each carries a stable ``code`` and an HTTP ``status``; constructors take only a
message so the exceptions survive pickling across Ray handles."""

from __future__ import annotations


class StorageError(Exception):
    code = "storage_error"
    status = 500


class ObjectNotFound(StorageError):
    code = "not_found"
    status = 404


class ObjectTooLarge(StorageError):
    code = "file_too_large"
    status = 413


class PreconditionFailed(StorageError):
    """A conditional write lost a race: the object changed (or already exists)."""

    code = "conflict"
    status = 409


class InvalidKey(StorageError):
    code = "invalid_key"
    status = 400


class StorageUnavailable(StorageError):
    """The object store cannot be reached or answers with server errors."""

    code = "storage_unavailable"
    status = 503
    retry_after = 5
    retryable = True
