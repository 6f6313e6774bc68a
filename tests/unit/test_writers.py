"""Output documents: the old service's JSON shapes and subtitle/text formats."""

from __future__ import annotations

import json

import pytest

from models import writers
from models.results import Segment, Transcript, Turn, Word

pytestmark = pytest.mark.unit


def transcript(speakers: bool = False) -> Transcript:
    s1, s2 = ("SPEAKER_00", "SPEAKER_01") if speakers else (None, None)
    return Transcript(
        language="en",
        duration=3725.5,
        segments=[
            Segment(
                0.0,
                1.5,
                "Hello there.",
                (Word("Hello", 0.0, 0.6, 0.91, s1), Word("there.", 0.7, 1.5, 0.8, s1)),
                s1,
            ),
            Segment(
                3723.25,
                3725.0,
                "Good bye.",
                (Word("Good", 3723.25, 3724.0, 0.7, s2), Word("bye.", 3724.1, 3725.0, 0.6, s2)),
                s2,
            ),
        ],
    )


def test_transcription_json_matches_the_old_service():
    doc = writers.transcription_json(transcript())
    assert doc == {
        "language": "en",
        "segments": [
            {"start": 0.0, "end": 1.5, "text": "Hello there."},
            {"start": 3723.25, "end": 3725.0, "text": "Good bye."},
        ],
        "text": "Hello there. Good bye.",
    }
    json.dumps(doc)


def test_wordstamps_json_has_whisperx_word_dicts():
    doc = writers.wordstamps_json(transcript())
    assert set(doc) == {"language", "segments", "word_segments"}
    assert doc["segments"][0]["words"][0] == {"word": "Hello", "start": 0.0, "end": 0.6, "score": 0.91}
    assert [w["word"] for w in doc["word_segments"]] == ["Hello", "there.", "Good", "bye."]
    assert "speaker" not in doc["segments"][0]


def test_speaker_segments_and_diarization():
    doc = writers.speaker_segments_json(transcript(speakers=True))
    assert set(doc) == {"language", "segments"}
    assert [s["speaker"] for s in doc["segments"]] == ["SPEAKER_00", "SPEAKER_01"]
    assert doc["segments"][1]["words"][0]["speaker"] == "SPEAKER_01"
    turns = [Turn(0.0, 1.6, "SPEAKER_00"), Turn(3723.0, 3725.2, "SPEAKER_01")]
    assert writers.diarization_json(turns)[1] == {"start": 3723.0, "end": 3725.2, "speaker": "SPEAKER_01"}


def test_srt_cues_and_clock_over_an_hour():
    assert writers.srt(transcript()) == (
        "1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n2\n01:02:03,250 --> 01:02:05,000\nGood bye.\n"
    )


def test_vtt_with_speakers():
    text = writers.vtt(transcript(speakers=True))
    assert text.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n[SPEAKER_00]: Hello there.\n")
    assert "01:02:03.250 --> 01:02:05.000\n[SPEAKER_01]: Good bye.\n" in text


def test_txt_tsv_rttm():
    assert writers.txt(transcript(speakers=True)) == "[SPEAKER_00]: Hello there.\n[SPEAKER_01]: Good bye.\n"
    assert (
        writers.tsv(transcript()) == "start\tend\ttext\n0\t1500\tHello there.\n3723250\t3725000\tGood bye.\n"
    )
    rttm = writers.rttm([Turn(0.5, 2.0, "SPEAKER_00")], file_id="my file")
    assert rttm == "SPEAKER my_file 1 0.500 1.500 <NA> <NA> SPEAKER_00 <NA> <NA>\n"


def test_empty_segments_are_not_written_as_cues():
    empty = Transcript("en", [Segment(0.0, 1.0, "  ")])
    assert writers.srt(empty) == "" and writers.txt(empty) == ""
    assert writers.vtt(empty) == "WEBVTT\n\n"
