"""WhisperX through real Ray Serve with the real bundled base weights, on espeak-ng speech."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

import pytest

from tests.helpers.speech import normalize, say, word_error_rate
from tests.integration.conftest import wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.model]

PASSAGE = (
    "The quick brown fox jumps over the lazy dog. "
    "We moved the meeting to Thursday afternoon because the office was closed for repairs. "
    "Please bring the quarterly report and your notes from the customer visit. "
    "After the meeting we will have dinner at the small restaurant near the river."
)
SHORT = [
    "Good morning, the train to London leaves at noon.",
    "My sister reads the newspaper every morning.",
    "Turn left at the bank and walk two blocks north.",
]


@pytest.fixture(scope="module")
def audio_files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("speech")
    files = {fmt: say(PASSAGE, root / "passage", fmt=fmt) for fmt in ("wav", "mp3", "m4a")}
    for i, text in enumerate(SHORT):
        files[f"short{i}"] = say(text, root / f"short{i}")
    return files


def submit(client, path: Path, route: str = "/whisperx/process", **fields: str):
    with open(path, "rb") as handle:
        return client.post(
            route, files={"file": (path.name, handle, "application/octet-stream")}, data=fields
        )


@pytest.fixture(scope="module")
def completed(serve_app, audio_files) -> dict[str, dict]:
    """Six tasks submitted at once: the passage in three formats and three short clips."""
    with serve_app.client() as client:

        def run(name: str) -> tuple[str, dict]:
            response = submit(client, audio_files[name])
            assert response.status_code == 200, response.text
            return name, wait_for_status(client, response.json()["task_id"], {"completed", "failed"})

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            return dict(pool.map(run, audio_files))


@pytest.mark.parametrize("fmt", ["wav", "mp3", "m4a"])
def test_passage_is_transcribed_accurately_in_every_format(completed, fmt):
    body = completed[fmt]
    assert body["status"] == "completed", body
    assert body["language"] == "en"
    wer = word_error_rate(PASSAGE, body["transcription"]["text"])
    assert wer < 0.15, (wer, body["transcription"]["text"])


def test_six_concurrent_tasks_all_complete_with_their_own_words(completed):
    assert {b["status"] for b in completed.values()} == {"completed"}
    heard = [completed[f"short{i}"]["transcription"]["text"] for i in range(len(SHORT))]
    # Short clips give Whisper little context (the passage test is the accuracy bar); this one is
    # about every caller getting its own words back.
    assert word_error_rate(" ".join(SHORT), " ".join(heard)) < 0.3, heard
    markers = [{"london", "train"}, {"sister", "newspaper", "news"}, {"left", "bank"}]
    for i, text in enumerate(heard):
        words = set(normalize(text))
        assert markers[i] & words, text  # its own words...
        for j, other in enumerate(markers):
            assert j == i or not other & words, text  # ...and nobody else's


def test_word_timestamps_are_ordered_and_inside_the_audio(completed):
    body = completed["wav"]
    words = body["wordstamps"]["word_segments"]
    assert len(words) >= 40
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)
    assert all(0 <= w["start"] <= w["end"] <= body["duration"] + 0.5 for w in words)
    assert body["available_files"][:2] == ["transcription", "wordstamps"]


def test_subtitles_parse(serve_app, completed):
    import re

    task_id = completed["wav"]["task_id"]
    with serve_app.client() as client:
        srt = client.get(f"/whisperx/download/{task_id}/srt")
        vtt = client.get(f"/whisperx/download/{task_id}/vtt")
        txt = client.get(f"/whisperx/download/{task_id}/txt")
    assert srt.status_code == 200 and srt.headers["content-type"].startswith("application/x-subrip")
    blocks = [b for b in srt.text.strip().split("\n\n") if b]
    stamp = r"\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d"
    for number, block in enumerate(blocks, start=1):
        lines = block.splitlines()
        assert lines[0] == str(number) and re.fullmatch(stamp, lines[1]) and lines[2].strip()
    assert vtt.text.startswith("WEBVTT")
    assert re.search(r"\d\d:\d\d:\d\d\.\d\d\d --> \d\d:\d\d:\d\d\.\d\d\d", vtt.text)
    assert word_error_rate(PASSAGE, txt.text) < 0.15
    assert f'filename="{task_id}_transcript.srt"' in srt.headers["content-disposition"]


def test_old_routes_answer_with_old_shapes(serve_app, completed, audio_files):
    task_id = completed["wav"]["task_id"]
    with serve_app.client() as client:
        legacy = submit(client, audio_files["short0"], route="/whisperx")
        unified = submit(
            client,
            audio_files["short1"],
            route="/model?model=whisperx&action=submit",
            enable_word_timestamps="false",
        )
        status = client.get(f"/model?model=whisperx&action=status&task_id={task_id}").json()
        download = client.get(
            f"/model?model=whisperx&action=download&task_id={task_id}&file_name=transcription"
        )
        listing = client.get("/model?model=whisperx&action=list").json()
        tasks = client.get("/whisperx/tasks", params={"status": "completed", "limit": 3}).json()
        models = client.get("/model?model=whisperx&action=models").json()
        result = client.get(f"/whisperx/result/{task_id}").json()
        no_words = wait_for_status(client, unified.json()["task_id"], {"completed", "failed"})
    assert list(legacy.json()) == ["task_id"]
    assert list(unified.json()) == ["task_id"]
    assert status["success"] is True and status["status"] == "completed"
    assert {"task_id", "status", "message", "created_at", "filename", "available_files"} <= set(status)
    assert download.json()["text"] == status["transcription"]["text"]
    assert listing["success"] is True and listing["total"] >= 6
    assert tasks["total"] == 3 and all(t["status"] == "completed" for t in tasks["tasks"])
    created = [t["created_at"] for t in listing["tasks"]]
    assert created == sorted(created, reverse=True)
    assert "base" in models["data"]["supported_models"] and models["data"]["default_model"] == "base"
    assert set(result["result"]) == {"transcription", "wordstamps"}
    assert no_words["status"] == "completed" and "wordstamps" not in no_words["available_files"]


def test_delete_removes_the_task(serve_app, audio_files):
    with serve_app.client() as client:
        task_id = submit(client, audio_files["short2"]).json()["task_id"]
        wait_for_status(client, task_id, {"completed", "failed"})
        deleted = client.delete(f"/whisperx/tasks/{task_id}")
        after = client.get(f"/whisperx/status/{task_id}")
    assert deleted.json() == {"success": True, "message": "Task deleted", "task_id": task_id}
    assert after.status_code == 404 and after.json()["error"] == "task_not_found"
