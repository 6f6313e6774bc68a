"""Retention: finished tasks, with their uploads and results, are deleted once older than the TTL.

``sweep_expired`` is a plain function over a ``TaskStore`` (no Ray): every TaskRunner replica runs it
periodically through ``janitor_loop`` when ``retention.results_ttl_hours`` is set. Deletes are
idempotent, so several replicas sweeping at once only repeat work. The sweep knows task status,
which a bucket lifecycle rule does not: an unfinished task is never expired here, however old.
Uploads and results left without a record (a gateway that died between writing the upload and the
record) are removed too, once older than the TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from dataclasses import dataclass

from storage import StorageError, TaskNotFound, TaskStore, keys

logger = logging.getLogger("ray.serve")


@dataclass
class SweepReport:
    tasks_deleted: int = 0
    orphans_deleted: int = 0
    tasks_kept: int = 0


def created_at(task_id: str) -> float:
    """Creation time from a task id (UUIDv7: milliseconds since the epoch in the top 48 bits)."""
    return (uuid.UUID(task_id).int >> 80) / 1000.0


def sweep_expired(tasks: TaskStore, ttl_s: float, now: float | None = None) -> SweepReport:
    """Delete finished tasks whose finish time is older than ``ttl_s``, and orphaned files."""
    now = time.time() if now is None else now
    cutoff = now - ttl_s
    report = SweepReport()
    ids = tasks.task_ids()
    for task_id in ids:  # oldest first: a task created after the cutoff cannot have finished before it
        if created_at(task_id) > cutoff:
            break
        try:
            record = tasks.get(task_id)
        except TaskNotFound:
            continue
        finished = record.finished_at or record.updated_at
        if not record.status.terminal or finished > cutoff:
            report.tasks_kept += 1
            continue
        with contextlib.suppress(TaskNotFound):
            tasks.delete(task_id)
            report.tasks_deleted += 1
    report.orphans_deleted = _sweep_orphans(tasks, set(ids), cutoff)
    return report


def _sweep_orphans(tasks: TaskStore, known: set[str], cutoff: float) -> int:
    """Uploads and results whose task record is gone, once their task is older than the cutoff."""
    deleted = 0
    for prefix in (keys.UPLOADS_PREFIX, keys.RESULTS_PREFIX):
        owners = {info.key[len(prefix) :].split("/", 1)[0] for info in tasks.store.list(prefix)}
        for task_id in sorted(owners):
            if not _is_task_id(task_id) or task_id in known or created_at(task_id) > cutoff:
                continue
            if tasks.store.exists(keys.task_key(task_id)):  # created since we listed
                continue
            deleted += tasks.store.delete_prefix(f"{prefix}{task_id}/")
    return deleted


def _is_task_id(value: str) -> bool:
    try:
        keys.validate_task_id(value)
    except StorageError:
        return False
    return True


async def janitor_loop(tasks: TaskStore, ttl_s: float, interval_s: float) -> None:
    """Sweep every ``interval_s`` (jittered, so replicas spread out) until cancelled."""
    await asyncio.sleep(random.uniform(0, min(interval_s, 30.0)))
    while True:
        try:
            report = await asyncio.to_thread(sweep_expired, tasks, ttl_s)
            if report.tasks_deleted or report.orphans_deleted:
                logger.info(
                    "retention: deleted %d expired tasks and %d orphaned files",
                    report.tasks_deleted,
                    report.orphans_deleted,
                )
        except Exception as exc:  # storage down: the next sweep catches up
            logger.warning("retention sweep failed: %s", type(exc).__name__)
        await asyncio.sleep(interval_s * random.uniform(0.9, 1.1))
