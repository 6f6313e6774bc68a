"""BlueLM long-speech transcription as durable tasks, through real Ray Serve and the vivo emulator."""

from __future__ import annotations

import asyncio
import io
import math
import struct
import time
import wave
from collections.abc import Iterator

import httpx
import pytest

from storage import TaskRecord, TaskStore, keys, open_store
from tests.emulator.lasr_routes import expected_sentences
from tests.integration.conftest import TEST_APP_ID, TEST_APP_KEY, wait_for_status

pytestmark = pytest.mark.integration


def tone_wav(seconds: float = 1.0, freq: float = 440.0, rate: int = 16000) -> bytes:
    count = int(seconds * rate)
    samples = (int(6000 * math.sin(2 * math.pi * freq * n / rate)) for n in range(count))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(struct.pack(f"<{count}h", *samples))
    return buffer.getvalue()


@pytest.fixture
def client(serve_app) -> Iterator[httpx.Client]:
    serve_app.emulator.clear()
    with serve_app.client() as http:
        yield http
    serve_app.emulator.clear()
    serve_app.emulator.set_options(lasr_polls_to_finish=3)


@pytest.fixture
def tasks(serve_app) -> TaskStore:
    store = open_store("s3", bucket=serve_app.bucket, endpoint_url=serve_app.s3.endpoint_url)
    return TaskStore(store)


def submit(
    client: httpx.Client,
    audio: bytes,
    route: str = "/bluelm/transcription",
    filename: str = "meeting.wav",
    **fields: str,
) -> str:
    response = client.post(route, files={"file": (filename, audio, "audio/wav")}, data=fields)
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["task_id"]
    return response.json()["task_id"]


def wait_status(client: httpx.Client, task_id: str, statuses: set[str], timeout_s: float = 60) -> dict:
    return wait_for_status(client, task_id, statuses, timeout_s, route="/bluelm/transcription/status/")


def test_transcription_runs_to_completed_with_vivo_sentences(client, serve_app):
    audio = tone_wav(1.0)
    task_id = submit(client, audio, app_id=TEST_APP_ID, app_key=TEST_APP_KEY)
    seen = {client.get(f"/bluelm/transcription/status/{task_id}").json()["status"]}
    body = wait_status(client, task_id, {"completed", "failed"})
    assert body["status"] == "completed", body
    assert body["progress"] == 100 and body["message"] == "Transcription completed successfully"
    assert list(body)[:5] == ["task_id", "status", "message", "created_at", "filename"]
    assert body["filename"].endswith(".wav") and "T" in body["created_at"]
    assert seen <= {"queued", "processing", "transcription_processing", "completed"}

    download = client.get(f"/bluelm/transcription/download/{task_id}")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == f"attachment; filename=transcription_{task_id}.json"
    assert download.json() == [
        {"ed": s["ed"], "onebest": s["onebest"], "bg": s["bg"], "speaker": s["speaker"]}
        for s in expected_sentences(audio)
    ]
    # the task's other outputs, through the shared download route
    record = TaskStore(open_store("s3", bucket=serve_app.bucket, endpoint_url=serve_app.s3.endpoint_url)).get(
        task_id
    )
    assert {"bluelm", "transcription", "srt", "txt"} <= set(record.available_files)
    assert record.vendor_task_id and record.options["vivo_job"]["task_id"] == record.vendor_task_id
    assert TEST_APP_KEY not in record.model_dump_json()
    assert len(serve_app.emulator.requests_for("lasr.upload")) == 1


def test_chinese_file_names_are_accepted(client):
    task_id = submit(client, tone_wav(0.3), filename="会议记录.wav")
    assert wait_status(client, task_id, {"completed"})["filename"] == "upload.wav"


def test_task_listing_and_filters(client):
    task_id = submit(client, tone_wav(0.5))
    wait_status(client, task_id, {"completed"})
    listing = client.get("/bluelm/transcription/tasks").json()
    assert set(listing) == {"tasks", "total"} and listing["total"] == len(listing["tasks"])
    assert task_id in [t["task_id"] for t in listing["tasks"]]
    completed = client.get("/bluelm/transcription/tasks?status=COMPLETED").json()
    assert {t["status"] for t in completed["tasks"]} == {"completed"}
    assert client.get("/bluelm/transcription/tasks?status=bogus").status_code == 400


def test_download_errors_follow_the_old_cases(client, serve_app):
    serve_app.emulator.set_options(lasr_polls_to_finish=8)
    task_id = submit(client, tone_wav(0.5))
    early = client.get(f"/bluelm/transcription/download/{task_id}")
    assert early.status_code == 400
    assert early.json()["error"] == "result_not_ready"
    assert early.json()["message"].startswith("Task is not completed yet")
    missing = client.get(f"/bluelm/transcription/download/{keys.new_task_id()}")
    assert missing.status_code == 404 and missing.json()["message"].startswith("Task not found")
    progress = wait_status(client, task_id, {"transcription_processing"})
    assert 0 < progress["progress"] < 100
    assert wait_status(client, task_id, {"completed"})["progress"] == 100


def test_model_route_drives_bluelm_tasks(client):
    task_id = submit(client, tone_wav(0.5), route="/model?model=bluelm&action=submit")
    wait_status(client, task_id, {"completed"})
    status = client.get(f"/model?model=BlueLM&action=status&task_id={task_id}").json()
    assert status["status"] == "completed"
    download = client.get(f"/model?model=bluelm&action=download&task_id={task_id}")
    assert download.status_code == 200 and download.json()[0]["onebest"].startswith("收到")
    listing = client.get("/model?model=bluelm&action=list").json()
    assert task_id in [t["task_id"] for t in listing["tasks"]]
    bad = client.get("/model?model=bluelm&action=models")
    assert bad.status_code == 400
    assert (
        bad.json()["message"]
        == "Unsupported action for BlueLM. Supported actions: submit, status, download, list"
    )
    assert (
        client.get("/model?model=bluelm&action=status").json()["message"] == "task_id parameter is required"
    )


def test_non_audio_upload_is_refused(client):
    response = client.post("/bluelm/transcription", files={"file": ("notes.wav", b"just text", "audio/wav")})
    assert response.status_code in (400, 415), response.text
    assert response.json()["success"] is False


def test_rate_limited_vivo_is_retried_by_the_runner(client, serve_app, tasks):
    serve_app.emulator.inject("lasr.create", http_status=429, msg="slow down", times=1)
    task_id = submit(client, tone_wav(0.5))
    assert wait_status(client, task_id, {"completed", "failed"})["status"] == "completed"
    assert tasks.get(task_id).attempts == 2


def test_vivo_failure_fails_the_task_with_its_message(client, serve_app):
    serve_app.emulator.inject("lasr.run", code=10203, msg="engine refused the audio", times=1)
    task_id = submit(client, tone_wav(0.5))
    body = wait_status(client, task_id, {"completed", "failed"})
    assert body["status"] == "failed"
    assert "engine refused the audio" in body["message"]
    assert body["error_code"] == "vivo_upstream_error"


def _vivo_job(serve_app, audio: bytes) -> dict:
    """Submit audio to the emulator directly, as a runner that then died would have."""
    from vivo import VivoClient, VivoSettings

    async def start() -> dict:
        settings = VivoSettings(
            app_id=TEST_APP_ID, app_key=TEST_APP_KEY, base_url=serve_app.emulator.base_url
        )
        async with VivoClient(settings) as vivo:
            job = await vivo.lasr_start(audio)
        return {"session_id": job.session_id, "audio_id": job.audio_id, "task_id": job.task_id}

    return asyncio.run(start())


def _orphan(tasks: TaskStore, audio: bytes, job: dict) -> str:
    """A task whose runner died after vivo accepted the audio (lease long expired)."""
    task_id = keys.new_task_id()
    upload_key = keys.upload_key(task_id, "orphan.wav")
    tasks.store.put(upload_key, audio, content_type="audio/wav")
    record = TaskRecord(
        task_id=task_id,
        engine="bluelm",
        filename="orphan.wav",
        upload_key=upload_key,
        upload_size=len(audio),
        options={"vivo_job": job},
        vendor_task_id=job["task_id"],
        attempts=1,
        lease_owner="dead-runner",
        heartbeat_at=time.time() - 3600,
        status="transcription_processing",
    )
    tasks.create(record)
    return task_id


def test_takeover_resumes_the_vivo_job_without_uploading_again(client, serve_app, tasks):
    audio = tone_wav(0.7, freq=523.0)
    job = _vivo_job(serve_app, audio)
    serve_app.emulator.clear()
    task_id = _orphan(tasks, audio, job)
    body = wait_status(client, task_id, {"completed", "failed"})
    assert body["status"] == "completed", body
    assert serve_app.emulator.requests_for("lasr.create") == []
    assert serve_app.emulator.requests_for("lasr.upload") == []
    assert (
        client.get(f"/bluelm/transcription/download/{task_id}").json()[1]["onebest"]
        == (expected_sentences(audio)[1]["onebest"])
    )


def test_takeover_of_a_job_vivo_forgot_uploads_again(client, serve_app, tasks):
    audio = tone_wav(0.6, freq=660.0)
    job = {"session_id": "s", "audio_id": "gone", "task_id": "unknown-task-id"}
    task_id = _orphan(tasks, audio, job)
    body = wait_status(client, task_id, {"completed", "failed"})
    assert body["status"] == "completed", body
    assert len(serve_app.emulator.requests_for("lasr.create")) == 1
    assert tasks.get(task_id).vendor_task_id != "unknown-task-id"
