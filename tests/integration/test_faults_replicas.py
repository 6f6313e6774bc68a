"""Replicas killed mid-task on the real session app: the task still completes, from its durable
record (lease timeout 8 s in the test config). Each test waits for the app to be whole again."""

from __future__ import annotations

import time

import pytest

from tests.helpers.faults import kill_one_replica, replica_actor_names, wait_app_healthy
from tests.helpers.speech import say, word_error_rate
from tests.integration.conftest import APP_NAME, wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.model]

TEXT = (
    "The quick brown fox jumps over the lazy dog. "
    "We moved the meeting to Thursday afternoon because the office was closed for repairs. "
    "Please bring the quarterly report and your notes from the customer visit. "
    "After the meeting we will have dinner at the small restaurant near the river. "
)
RUNNING = {"processing", "transcription_processing"}


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    return say(TEXT + TEXT, tmp_path_factory.mktemp("faults") / "long", fmt="wav")


@pytest.fixture(scope="module")
def replicas(serve_app) -> dict[str, int]:
    """The replica counts to restore after each kill."""
    names = ("TaskRunner", "Transcriber-base", "Gateway")
    counts = {name: len(replica_actor_names(APP_NAME, name)) for name in names}
    assert all(counts.values()), counts
    return counts


def _attempts(serve_app, task_id: str) -> int:
    from storage import TaskStore, open_store

    store = open_store("s3", bucket=serve_app.bucket, endpoint_url=serve_app.s3.endpoint_url)
    return TaskStore(store).get(task_id).attempts


def _submit_and_wait_running(client, clip) -> str:
    with open(clip, "rb") as handle:
        response = client.post("/whisperx/process", files={"file": ("long.wav", handle, "audio/wav")})
    assert response.status_code == 200, response.text
    task_id = response.json()["task_id"]
    wait_for_status(client, task_id, RUNNING, timeout_s=60)
    return task_id


@pytest.mark.parametrize("deployment", ["Transcriber-base", "TaskRunner"])
def test_a_replica_killed_mid_task_does_not_lose_the_task(serve_app, replicas, long_clip, deployment):
    with serve_app.client() as client:
        task_id = _submit_and_wait_running(client, long_clip)
        started = time.monotonic()
        try:
            killed = kill_one_replica(APP_NAME, deployment)
            body = wait_for_status(client, task_id, {"completed", "failed"}, timeout_s=300)
        finally:
            wait_app_healthy(APP_NAME, replicas)
    assert killed not in replica_actor_names(APP_NAME, deployment)
    assert body["status"] == "completed", body
    assert word_error_rate(TEXT + TEXT, body["transcription"]["text"]) < 0.2
    if deployment == "TaskRunner":  # a new runner took it over once the lease expired
        assert _attempts(serve_app, task_id) >= 2
    print(f"{deployment} killed: task completed {time.monotonic() - started:.1f}s later")


def test_a_task_whose_gateway_died_before_dispatch_is_picked_up(serve_app, tmp_path):
    """The gateway wrote the upload and the record, then died before poking a runner: the
    runners' periodic scan of the queue finds it."""
    from storage import TaskRecord, TaskStore, keys, open_store

    clip = say("Turn left at the bank and walk two blocks north.", tmp_path / "orphan")
    store = open_store("s3", bucket=serve_app.bucket, endpoint_url=serve_app.s3.endpoint_url)
    task_id = keys.new_task_id()
    upload = keys.upload_key(task_id, "orphan.wav")
    store.upload_file(clip, upload, content_type="audio/wav")
    TaskStore(store).create(
        TaskRecord(task_id=task_id, filename="orphan.wav", upload_key=upload, options={"model": "base"})
    )
    with serve_app.client() as client:
        body = wait_for_status(client, task_id, {"completed", "failed"}, timeout_s=180)
    assert body["status"] == "completed", body
    assert {"left", "blocks"} & set(body["transcription"]["text"].lower().replace(".", "").split())
