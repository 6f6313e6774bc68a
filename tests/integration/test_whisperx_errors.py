"""Every bad input to the transcription API gets its own clear 4xx JSON error, and nothing is lost."""

from __future__ import annotations

import pytest

from storage import keys
from tests.helpers.speech import say
from tests.integration.conftest import wait_for_status

pytestmark = pytest.mark.integration


def post(client, content: bytes, name: str = "a.wav", route: str = "/whisperx/process", **fields):
    return client.post(route, files={"file": (name, content, "application/octet-stream")}, data=fields)


def assert_error(response, status: int, code: str, fragment: str = "") -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"] == code, body
    assert fragment.lower() in body["message"].lower(), body
    assert body["request_id"] and "Traceback" not in response.text
    return body


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> bytes:
    return say("A short clip for error tests.", tmp_path_factory.mktemp("e") / "clip").read_bytes()


def count_tasks(client) -> int:
    return client.get("/whisperx/tasks", params={"limit": 500}).json()["total"]


def test_bad_uploads(serve_app, speech):
    with serve_app.client() as client:
        before = count_tasks(client)
        assert_error(post(client, b""), 400, "empty_audio")
        assert_error(post(client, b"RIFF\x24\x00\x00\x00WAVEfmt garbage" * 50), 400, "invalid_audio")
        assert_error(post(client, b"%PDF-1.4 not audio at all" * 100, name="talk.mp3"), 400, "invalid_audio")
        assert_error(post(client, b"\x00" * (6 * 1024 * 1024)), 413, "file_too_large", "maximum size is 5 MB")
        assert_error(client.post("/whisperx/process", content=speech), 415, "unsupported_media_type")
        assert_error(
            client.post("/whisperx/process", files={"language": (None, "en")}), 400, "bad_request", "no file"
        )
        assert_error(
            post(client, speech, model_name="large-v9"), 400, "unknown_model", "available models: base"
        )
        assert_error(post(client, speech, language="xx"), 400, "bad_request", "unsupported language")
        assert_error(
            post(client, speech, enable_word_timestamps="maybe"), 400, "bad_request", "true or false"
        )
        assert_error(
            post(client, speech, min_speakers="4", max_speakers="2"), 400, "bad_request", "min_speakers"
        )
        assert count_tasks(client) == before  # nothing half-created


def test_bad_ids_and_file_types(serve_app, speech):
    unknown = keys.new_task_id()
    with serve_app.client() as client:
        assert_error(client.get(f"/whisperx/status/{unknown}"), 404, "task_not_found")
        assert_error(client.get("/whisperx/status/..%2F..%2Fetc%2Fpasswd"), 404, "not_found")
        assert_error(client.get("/whisperx/status/...."), 400, "invalid_task_id")
        assert_error(client.get(f"/whisperx/status/{unknown.upper()}"), 400, "invalid_task_id")
        assert_error(client.get("/whisperx/download/not-an-id/srt"), 400, "invalid_task_id")
        assert_error(client.delete(f"/whisperx/tasks/{unknown}"), 404, "task_not_found")
        task_id = post(client, speech).json()["task_id"]
        early = client.get(f"/whisperx/result/{task_id}")
        if early.status_code != 200:  # a fast runner may already be done; then this check is moot
            assert_error(early, 400, "result_not_ready")
        wait_for_status(client, task_id, {"completed"})
        assert_error(client.get(f"/whisperx/download/{task_id}/mp4"), 400, "bad_request", "invalid file type")
        assert_error(client.get(f"/whisperx/download/{task_id}/diarization"), 400, "result_not_ready")
        assert_error(client.get("/whisperx/tasks?status=sleeping"), 400, "bad_request", "unknown status")
        assert_error(client.get("/model?model=whisperx"), 400, "bad_request", "action parameter is required")
        assert_error(client.get("/model?model=gpt&action=list"), 400, "bad_request", "supported models")
        assert_error(client.get("/model?model=whisperx&action=status"), 400, "bad_request", "task_id")
        assert_error(
            client.get(f"/model?model=whisperx&action=download&task_id={task_id}"),
            400,
            "bad_request",
            "file_name",
        )
        assert_error(client.get("/model?model=whisperx&action=fly"), 400, "bad_request", "supported actions")
