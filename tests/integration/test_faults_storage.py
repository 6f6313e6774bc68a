"""The S3 server stops under the real session app: requests that need storage answer 503 quickly
with Retry-After, health stays up, and work submitted after the restart completes.

moto keeps its data in memory, so a restart loses every object and the bucket. A real MinIO keeps
both on its volume; the test re-creates the bucket to stand for that volume (the app creates it only
at start). So what is checked after the restart is new work, not work from before the outage.
"""

from __future__ import annotations

import time

import boto3
import httpx
import pytest

from tests.helpers.speech import say
from tests.integration.conftest import wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.model]

QUICK_S = 12.0  # boto3: connect refused x 3 attempts with backoff, well under this


def _recreate_bucket(serve_app) -> None:
    client = boto3.client("s3", endpoint_url=serve_app.s3.endpoint_url, region_name="us-east-1")
    try:
        client.head_bucket(Bucket=serve_app.bucket)
    except Exception:
        client.create_bucket(Bucket=serve_app.bucket)


def _timed(call) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_storage_outage_answers_503_and_work_after_the_restart_completes(serve_app, tmp_path):
    clip = say("My sister plays the violin in a small orchestra.", tmp_path / "clip")
    existing = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

    def submit(client):
        with open(clip, "rb") as handle:
            return client.post("/whisperx/process", files={"file": ("clip.wav", handle, "audio/wav")})

    with serve_app.client(timeout=60) as client:
        serve_app.s3.stop()
        try:
            during = {
                "submit": _timed(lambda: submit(client)),
                "status": _timed(lambda: client.get(f"/whisperx/status/{existing}")),
                "list": _timed(lambda: client.get("/whisperx/tasks")),
            }
            health = client.get("/health")
        finally:
            serve_app.s3.start()
            _recreate_bucket(serve_app)
        for name, (response, elapsed) in during.items():
            assert response.status_code == 503, (name, response.text)
            assert response.json()["error"] == "storage_unavailable", name
            assert int(response.headers["retry-after"]) >= 1, name
            assert elapsed < QUICK_S, (name, elapsed)
            assert "auralab-test-secret" not in response.text
        assert health.status_code == 200

        deadline = time.monotonic() + 60
        while client.get("/whisperx/tasks").status_code != 200:
            assert time.monotonic() < deadline, "storage did not come back"
            time.sleep(0.5)
        after = submit(client)
        assert after.status_code == 200, after.text
        body = wait_for_status(client, after.json()["task_id"], {"completed", "failed"}, timeout_s=180)
        listed = client.get("/whisperx/tasks", params={"limit": 500}).json()["tasks"]
    assert body["status"] == "completed", body
    assert {"sister", "orchestra"} & set(body["transcription"]["text"].lower().replace(",", " ").split())
    # The outage left no records behind: the only task is the one submitted after the restart.
    assert [t["task_id"] for t in listed] == [after.json()["task_id"]]
