"""A storage failure in the middle of creating a task leaves nothing half-written (no Ray: the
failing store is injected under the real TaskStore and gateway code)."""

from __future__ import annotations

import asyncio

import pytest

from deployments.config import AppArgs
from deployments.context import GatewayContext
from deployments.tasks_api import create_task
from deployments.uploads import ReceivedForm
from storage import StorageUnavailable, TaskRecord, TaskStore, keys, open_store

pytestmark = pytest.mark.integration


class FailingStore:
    """Delegates to a real store, but writes under ``fail_prefix`` raise StorageUnavailable."""

    def __init__(self, inner, fail_prefix: str):
        self.inner = inner
        self.fail_prefix = fail_prefix

    def put(self, key, data, **kwargs):
        if key.startswith(self.fail_prefix):
            raise StorageUnavailable("object store unreachable during put")
        return self.inner.put(key, data, **kwargs)

    def upload_file(self, path, key, *, content_type=None):
        with open(path, "rb") as src:
            return self.put(key, src, content_type=content_type)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _everything(store) -> list[str]:
    return [info.key for info in store.list("")]


def test_a_failed_queue_marker_takes_the_record_back(tmp_path):
    real = open_store("local", root=str(tmp_path / "store"))
    tasks = TaskStore(FailingStore(real, keys.QUEUE_PREFIX))  # type: ignore[arg-type]
    with pytest.raises(StorageUnavailable):
        tasks.create(TaskRecord(task_id=keys.new_task_id()))
    assert _everything(real) == []  # no record a runner could never find


@pytest.mark.parametrize("fail_prefix", [keys.UPLOADS_PREFIX, keys.TASKS_PREFIX, keys.QUEUE_PREFIX])
def test_a_storage_failure_while_creating_a_task_leaves_nothing_behind(tmp_path, fail_prefix):
    real = open_store("local", root=str(tmp_path / "store"))
    failing = FailingStore(real, fail_prefix)
    ctx = GatewayContext(args=AppArgs(), store=failing, tasks=TaskStore(failing))  # type: ignore[arg-type]
    upload = tmp_path / "upload.wav"
    upload.write_bytes(b"RIFF....WAVE")
    form = ReceivedForm(file_path=upload, filename="upload.wav", size=12)
    with pytest.raises(StorageUnavailable) as caught:
        asyncio.run(create_task(ctx, form, "whisperx", {}))
    assert caught.value.status == 503 and caught.value.retry_after
    assert _everything(real) == []
    assert not upload.exists()  # the temporary file is cleaned up too
