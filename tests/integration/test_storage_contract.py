"""One contract, two backends: the local filesystem and S3 over HTTP (moto_server process)."""

from __future__ import annotations

import threading

import pytest

from storage import InvalidKey, ObjectNotFound, ObjectTooLarge, PreconditionFailed, keys
from storage.records import TaskRecord, TaskStatus
from storage.tasks import IllegalTransition, LeaseLost, TaskNotFound, TaskStore

pytestmark = pytest.mark.integration


def test_put_get_head_roundtrip(store):
    info = store.put("results/a/transcription.json", b'{"text": "hello"}', content_type="application/json")
    assert info.size == 17
    data, got = store.get("results/a/transcription.json")
    assert data == b'{"text": "hello"}'
    assert got.etag == info.etag
    assert store.head("results/a/transcription.json").size == 17


def test_streamed_put_and_read_back_in_chunks(store):
    chunks = [bytes([i]) * 300_000 for i in range(7)]
    store.put("uploads/x/big.bin", iter(chunks))
    assert b"".join(store.iter_chunks("uploads/x/big.bin", chunk_size=65536)) == b"".join(chunks)


def test_size_cap_aborts_and_leaves_nothing(store):
    with pytest.raises(ObjectTooLarge):
        store.put("uploads/x/too-big.bin", iter([b"x" * 4096] * 10), max_bytes=10_000)
    assert not store.exists("uploads/x/too-big.bin")
    assert list(store.list("uploads/x/")) == []


def test_missing_object_is_not_found(store):
    with pytest.raises(ObjectNotFound):
        store.get("nothing/here")
    with pytest.raises(ObjectNotFound):
        store.head("nothing/here")
    store.delete("nothing/here")  # deleting what is absent is fine


def test_list_by_prefix_in_key_order(store):
    for key in ["tasks/b.json", "tasks/a.json", "taskssibling/c", "results/z/1"]:
        store.put(key, b"1")
    assert [i.key for i in store.list("tasks/")] == ["tasks/a.json", "tasks/b.json"]
    assert store.delete_prefix("tasks/") == 2
    assert [i.key for i in store.list("tasks/")] == []


def test_conditional_writes(store):
    first = store.put("tasks/r.json", b"1", if_none_match=True)
    with pytest.raises(PreconditionFailed):
        store.put("tasks/r.json", b"2", if_none_match=True)
    second = store.put("tasks/r.json", b"3", if_match=first.etag)
    with pytest.raises(PreconditionFailed):
        store.put("tasks/r.json", b"4", if_match=first.etag)
    assert store.get("tasks/r.json")[0] == b"3"
    assert second.etag != first.etag


@pytest.mark.parametrize("key", ["../escape", "a/../../b", "/abs", "a//b", "a/./b", ""])
def test_path_tricks_never_escape_the_local_root(tmp_path, key):
    from storage.local import LocalStore

    local = LocalStore(tmp_path / "root")
    with pytest.raises(InvalidKey):
        local.put(key, b"x")
    assert not (tmp_path / "escape").exists()


def test_task_lifecycle_and_listing(store):
    tasks = TaskStore(store)
    ids = [keys.new_task_id() for _ in range(3)]
    for task_id in ids:
        tasks.create(TaskRecord(task_id=task_id, filename="a.wav"))
    assert [r.task_id for r in tasks.newest()] == list(reversed(ids))
    assert tasks.unfinished_ids() == ids

    claimed = tasks.claim(ids[0], owner="runner-1", lease_s=30, max_attempts=3)
    assert claimed is not None and claimed.attempts == 1
    assert tasks.claim(ids[0], owner="runner-2", lease_s=30, max_attempts=3) is None
    tasks.transition(ids[0], TaskStatus.TRANSCRIPTION_PROCESSING, owner="runner-1", progress=10)
    with pytest.raises(LeaseLost):
        tasks.heartbeat(ids[0], owner="runner-2")
    done = tasks.transition(ids[0], TaskStatus.COMPLETED, owner="runner-1", progress=100)
    assert done.finished_at is not None and done.lease_owner is None
    with pytest.raises(IllegalTransition):
        tasks.transition(ids[0], TaskStatus.PROCESSING)
    assert ids[0] not in tasks.unfinished_ids()
    assert [r.task_id for r in tasks.newest(status=TaskStatus.QUEUED)] == [ids[2], ids[1]]
    assert [r.task_id for r in tasks.newest(limit=1)] == [ids[2]]

    tasks.delete(ids[1])
    with pytest.raises(TaskNotFound):
        tasks.get(ids[1])


def test_racing_writers_lose_no_update(store):
    tasks = TaskStore(store, max_update_attempts=200)
    task_id = keys.new_task_id()
    tasks.create(TaskRecord(task_id=task_id))

    def add_files(prefix: str) -> None:
        for i in range(8):

            def mutate(record: TaskRecord, name: str = f"{prefix}{i}") -> TaskRecord:
                record.available_files.append(name)
                return record

            tasks.update(task_id, mutate)

    threads = [threading.Thread(target=add_files, args=(p,)) for p in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(tasks.get(task_id).available_files) == sorted(f"{p}{i}" for p in "ab" for i in range(8))


def test_expired_lease_is_taken_over_and_attempts_are_bounded(store):
    tasks = TaskStore(store)
    task_id = keys.new_task_id()
    tasks.create(TaskRecord(task_id=task_id))
    assert tasks.claim(task_id, "r1", lease_s=0.0, max_attempts=2) is not None
    taken = tasks.claim(task_id, "r2", lease_s=0.0, max_attempts=2)
    assert taken is not None and taken.lease_owner == "r2" and taken.attempts == 2
    assert tasks.claim(task_id, "r3", lease_s=0.0, max_attempts=2) is None
    failed = tasks.get(task_id)
    assert failed.status is TaskStatus.FAILED
    assert failed.error_code == "attempts_exhausted"
    assert task_id not in tasks.unfinished_ids()
