"""Retention: the janitor deletes finished tasks with their files after the TTL, on both backends
(local and a real S3 server), and never touches unfinished work."""

from __future__ import annotations

import asyncio
import time

import pytest

from deployments.janitor import created_at, janitor_loop, sweep_expired
from storage import TaskRecord, TaskStatus, TaskStore, keys

pytestmark = pytest.mark.integration

HOUR = 3600.0


def _task(tasks: TaskStore, status: TaskStatus | None) -> str:
    """A task with an upload and (when finished) a result file, moved to ``status``."""
    task_id = keys.new_task_id()
    upload = keys.upload_key(task_id, "clip.wav")
    tasks.store.put(upload, b"RIFF-audio")
    tasks.create(TaskRecord(task_id=task_id, filename="clip.wav", upload_key=upload))
    if status is not None:
        tasks.claim(task_id, "runner-1", lease_s=60, max_attempts=3)
        tasks.store.put(keys.result_key(task_id, "transcription"), b"{}")
        tasks.transition(task_id, status, owner="runner-1")
    return task_id


def _files(tasks: TaskStore, task_id: str) -> list[str]:
    return [
        info.key
        for prefix in (keys.upload_prefix(task_id), keys.result_prefix(task_id), keys.task_key(task_id))
        for info in tasks.store.list(prefix)
    ]


def test_expired_finished_tasks_go_with_their_files_and_unfinished_ones_stay(store):
    tasks = TaskStore(store)
    done, failed, queued, running = (
        _task(tasks, TaskStatus.COMPLETED),
        _task(tasks, TaskStatus.FAILED),
        _task(tasks, None),
        _task(tasks, None),
    )
    tasks.claim(running, "runner-1", lease_s=60, max_attempts=3)
    orphan = keys.new_task_id()  # a gateway died after the upload, before the record
    store.put(keys.upload_key(orphan, "lost.wav"), b"RIFF")

    recent = sweep_expired(tasks, ttl_s=HOUR)  # nothing is an hour old yet
    assert (recent.tasks_deleted, recent.orphans_deleted) == (0, 0)
    assert _files(tasks, done) and store.exists(keys.upload_key(orphan, "lost.wav"))

    later = sweep_expired(tasks, ttl_s=HOUR, now=time.time() + 2 * HOUR)
    assert later.tasks_deleted == 2 and later.orphans_deleted == 1
    assert _files(tasks, done) == [] and _files(tasks, failed) == []
    assert not store.exists(keys.upload_key(orphan, "lost.wav"))
    assert tasks.get(queued).status is TaskStatus.QUEUED and len(_files(tasks, queued)) == 2
    assert tasks.get(running).status is TaskStatus.PROCESSING
    assert set(tasks.unfinished_ids()) == {queued, running}


def test_task_ids_carry_their_creation_time():
    before = time.time()
    task_id = keys.new_task_id()
    assert before - 0.01 <= created_at(task_id) <= time.time() + 0.01


def test_the_runner_loop_sweeps_periodically(tmp_path):
    from storage import open_store

    tasks = TaskStore(open_store("local", root=str(tmp_path / "store")))
    done = _task(tasks, TaskStatus.COMPLETED)
    waiting = _task(tasks, None)

    async def run_for(seconds: float) -> None:
        loop = asyncio.create_task(janitor_loop(tasks, ttl_s=0.05, interval_s=0.1))
        await asyncio.sleep(seconds)
        loop.cancel()

    time.sleep(0.1)  # the finished task is now older than the tiny TTL
    asyncio.run(run_for(0.6))
    assert _files(tasks, done) == []
    assert tasks.get(waiting).status is TaskStatus.QUEUED
