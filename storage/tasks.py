"""Task records in the object store: create, read, list, and race-safe updates.

Every update is a read-modify-write guarded by the record's etag, so two replicas writing the same
record cannot silently lose an update: the loser re-reads and re-applies its change.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator

from storage import keys
from storage.base import ObjectStore
from storage.errors import ObjectNotFound, PreconditionFailed, StorageError
from storage.records import TaskRecord, TaskStatus, allowed


class TaskNotFound(StorageError):
    code = "task_not_found"
    status = 404


class IllegalTransition(StorageError):
    code = "illegal_transition"
    status = 409


class LeaseLost(StorageError):
    """Another runner owns the task now (ours expired): stop working on it."""

    code = "lease_lost"
    status = 409


Mutation = Callable[[TaskRecord], TaskRecord | None]


class RecordBusy(StorageError):
    """Too many writers raced on one record: we are saturated, the caller may try again shortly."""

    code = "record_busy"
    status = 503
    retry_after = 1
    retryable = True


class TaskStore:
    def __init__(self, store: ObjectStore, max_update_attempts: int = 20):
        self.store = store
        self._max_update_attempts = max_update_attempts

    def create(self, record: TaskRecord) -> TaskRecord:
        key = keys.task_key(record.task_id)
        self.store.put(key, _dump(record), content_type="application/json", if_none_match=True)
        try:
            self.store.put(keys.queue_key(record.task_id), b"", content_type="text/plain")
        except BaseException:
            # Without its queue marker no runner would ever find the task: a record stuck at
            # "queued" forever. Take the record back so the caller's error is the whole story.
            with contextlib.suppress(Exception):
                self.store.delete(key)
            raise
        return record

    def get(self, task_id: str) -> TaskRecord:
        return self._read(task_id)[0]

    def _read(self, task_id: str) -> tuple[TaskRecord, str]:
        try:
            data, info = self.store.get(keys.task_key(task_id))
        except ObjectNotFound:
            raise TaskNotFound(f"task {task_id} not found") from None
        return TaskRecord.model_validate_json(data), info.etag

    def update(self, task_id: str, mutate: Mutation) -> TaskRecord:
        """Apply ``mutate`` to the current record and write it back if nobody wrote in between.

        ``mutate`` returns the new record, or None to leave the record as it is.
        """
        for _ in range(self._max_update_attempts):
            current, etag = self._read(task_id)
            new = mutate(current.model_copy(deep=True))
            if new is None:
                return current
            new.updated_at = time.time()
            try:
                self.store.put(keys.task_key(task_id), _dump(new), if_match=etag)
            except (PreconditionFailed, ObjectNotFound):  # changed, or deleted (S3 may answer 404)
                continue
            if new.status.terminal and not current.status.terminal:
                # The record is written: a marker left behind is removed by the next claim of it.
                with contextlib.suppress(StorageError):
                    self.store.delete(keys.queue_key(task_id))
            return new
        raise RecordBusy(f"task {task_id} is being updated by too many writers; try again shortly")

    def transition(
        self, task_id: str, status: TaskStatus, *, owner: str | None = None, **changes: object
    ) -> TaskRecord:
        """Move a task to ``status`` (refusing illegal moves) and set other fields with it.

        With ``owner``, the move only happens while that runner still holds the lease.
        """

        def mutate(record: TaskRecord) -> TaskRecord:
            if owner is not None and record.lease_owner != owner:
                raise LeaseLost(f"task {task_id} is now run by another runner")
            if record.status != status and not allowed(record.status, status):
                raise IllegalTransition(f"task {task_id} cannot go from {record.status} to {status}")
            updated = record.model_copy(update={"status": status, **changes})
            if owner is not None:
                updated.heartbeat_at = time.time()
            if status.terminal:
                updated.finished_at = time.time()
                updated.lease_owner = None
            return TaskRecord.model_validate(updated.model_dump())

        return self.update(task_id, mutate)

    def claim(self, task_id: str, owner: str, lease_s: float, max_attempts: int) -> TaskRecord | None:
        """Take the lease of a queued task or of one whose runner stopped heart-beating.

        Returns the claimed record, or None if someone else holds a live lease or the task ended.
        A task that has used up its attempts is failed with the reason instead.
        """
        claimed = ended = False

        def mutate(record: TaskRecord) -> TaskRecord | None:
            nonlocal claimed, ended
            claimed, ended = False, record.status.terminal
            if ended or not record.lease_expired(lease_s):
                return None
            if record.attempts >= max_attempts:
                return _give_up(record)
            claimed = True
            now = time.time()
            return record.model_copy(
                update={
                    "status": TaskStatus.PROCESSING,
                    "message": "Processing started",
                    "attempts": record.attempts + 1,
                    "lease_owner": owner,
                    "heartbeat_at": now,
                }
            )

        try:
            record = self.update(task_id, mutate)
        except TaskNotFound:
            self.store.delete(keys.queue_key(task_id))
            return None
        if ended:  # its marker outlived it (that delete failed): stop finding it
            self.store.delete(keys.queue_key(task_id))
        return record if claimed else None

    def heartbeat(self, task_id: str, owner: str, **changes: object) -> TaskRecord:
        """Renew the lease (and set progress fields with it); :class:`LeaseLost` if it is gone."""

        def mutate(record: TaskRecord) -> TaskRecord:
            if record.lease_owner != owner or record.status.terminal:
                raise LeaseLost(f"task {task_id} is now run by another runner")
            return record.model_copy(update={"heartbeat_at": time.time(), **changes})

        return self.update(task_id, mutate)

    def newest(
        self, status: TaskStatus | None = None, limit: int = 50, engine: str | None = None
    ) -> list[TaskRecord]:
        """Newest first (ids sort by creation time), optionally filtered."""
        found: list[TaskRecord] = []
        for task_id in self._ids(keys.TASKS_PREFIX, newest_first=True):
            try:
                record = self.get(task_id)
            except TaskNotFound:
                continue
            if (status is None or record.status == status) and (engine is None or record.engine == engine):
                found.append(record)
                if len(found) >= limit:
                    break
        return found

    def task_ids(self) -> list[str]:
        """Ids of every stored task, oldest first."""
        return list(self._ids(keys.TASKS_PREFIX, newest_first=False))

    def unfinished_ids(self) -> list[str]:
        """Ids of tasks not yet completed or failed, oldest first."""
        return list(self._ids(keys.QUEUE_PREFIX, newest_first=False))

    def _ids(self, prefix: str, newest_first: bool) -> Iterator[str]:
        ids = [keys.task_id_from_key(info.key, prefix) for info in self.store.list(prefix)]
        yield from sorted((i for i in ids if i), reverse=newest_first)

    def delete(self, task_id: str) -> None:
        """Remove a task with its upload and results."""
        self.get(task_id)
        self.store.delete_prefix(keys.upload_prefix(task_id))
        self.store.delete_prefix(keys.result_prefix(task_id))
        self.store.delete(keys.queue_key(task_id))
        self.store.delete(keys.task_key(task_id))


def _give_up(record: TaskRecord) -> TaskRecord:
    return record.model_copy(
        update={
            "status": TaskStatus.FAILED,
            "message": f"Task failed after {record.attempts} attempts",
            "error": f"gave up after {record.attempts} attempts: the runner stopped each time",
            "error_code": "attempts_exhausted",
            "lease_owner": None,
            "finished_at": time.time(),
        }
    )


def _dump(record: TaskRecord) -> bytes:
    return json.dumps(record.model_dump(mode="json"), ensure_ascii=False).encode()
