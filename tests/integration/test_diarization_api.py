"""Speaker diarization through the HTTP task API: real Ray Serve, real weights, offline backend."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from models.diarization import diarization_error_rate
from models.results import Turn
from tests.helpers.dialogue import THREE_VOICES, TWO_VOICES, Dialogue, synthesize_dialogue
from tests.helpers.speech import write_wav
from tests.integration.conftest import wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.model]


def diarize_over_http(serve_app, dialogue: Dialogue, tmp_path, **fields: str) -> dict:
    path = write_wav(dialogue.audio, tmp_path / "dialogue.wav")
    with serve_app.client() as client, open(path, "rb") as handle:
        response = client.post(
            "/whisperx/process",
            files={"file": ("dialogue.wav", handle, "audio/wav")},
            data={"enable_speaker_diarization": "true", "language": "en", **fields},
        )
        assert response.status_code == 200, response.text
        task_id = response.json()["task_id"]
        body = wait_for_status(client, task_id, {"completed", "failed"})
        assert body["status"] == "completed", body
        body["diarization"] = client.get(f"/whisperx/download/{task_id}/diarization").json()
        body["rttm"] = client.get(f"/whisperx/download/{task_id}/rttm").text
        body["srt"] = client.get(f"/whisperx/download/{task_id}/srt").text
    return body


def reference_speaker(turns: list[Turn], time: float) -> str:
    """The voice speaking at ``time`` (the nearest turn for times in a pause)."""
    for turn in turns:
        if turn.start <= time <= turn.end:
            return turn.speaker
    return min(turns, key=lambda t: min(abs(t.start - time), abs(t.end - time))).speaker


def word_accuracy(dialogue: Dialogue, words: list[dict]) -> float:
    """Share of words whose speaker label maps (by majority vote) to the voice that said them."""
    truth = [reference_speaker(dialogue.turns, (w["start"] + w["end"]) / 2) for w in words]
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for word, voice in zip(words, truth, strict=True):
        votes[word.get("speaker", "?")][voice] += 1
    mapping = {label: counter.most_common(1)[0][0] for label, counter in votes.items()}
    right = sum(mapping[w.get("speaker", "?")] == voice for w, voice in zip(words, truth, strict=True))
    return right / len(words)


@pytest.mark.parametrize(
    ("voices", "max_der", "min_accuracy"), [(TWO_VOICES, 0.12, 0.95), (THREE_VOICES, 0.15, 0.9)]
)
def test_dialogue_speakers_over_http(serve_app, tmp_path, voices, max_der, min_accuracy):
    dialogue = synthesize_dialogue(voices)
    body = diarize_over_http(serve_app, dialogue, tmp_path)
    hypothesis = [Turn(t["start"], t["end"], t["speaker"]) for t in body["diarization"]]
    der = diarization_error_rate(dialogue.turns, hypothesis)
    words = body["wordstamps"]["word_segments"]
    accuracy = word_accuracy(dialogue, words)
    print(f"{len(voices)} speakers over HTTP: DER={der:.3f} word-speaker accuracy={accuracy:.3f}")
    assert len({t.speaker for t in hypothesis}) == len(voices)
    assert der <= max_der
    assert accuracy >= min_accuracy
    assert all("speaker" in w for w in words)
    assert {"speaker_segments", "diarization", "rttm"} <= set(body["available_files"])
    assert body["rttm"].startswith("SPEAKER ")
    assert "[SPEAKER_00]" in body["srt"]


def test_pyannote_requested_without_a_pipeline_fails_clearly():
    """The pyannote backend, asked for with no pipeline and no hub, says what to configure, fast."""
    import time

    from models.diarization import DiarizationUnavailable, load_diarizer

    started = time.monotonic()
    with pytest.raises(DiarizationUnavailable) as info:
        load_diarizer("pyannote", hf_token=None, hub_online=False)
    assert time.monotonic() - started < 5
    assert "pyannote" in str(info.value).lower()
