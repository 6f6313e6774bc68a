"""The offline diarizer on espeak-ng dialogues with known turn times, end to end to words."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from models.diarization import (
    DiarizationUnavailable,
    assign_speakers,
    diarization_error_rate,
    load_diarizer,
    word_speaker_accuracy,
)
from tests.helpers.dialogue import LINES, THREE_VOICES, TWO_VOICES, synthesize_dialogue, without_speakers
from tests.helpers.speech import SAMPLE_RATE

pytestmark = pytest.mark.model
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def diarizer():
    return load_diarizer("offline")


@pytest.mark.parametrize(
    ("voices", "max_der", "min_word_accuracy"),
    [(TWO_VOICES, 0.12, 0.95), (THREE_VOICES, 0.15, 0.90)],
    ids=["two_speakers", "three_speakers"],
)
def test_offline_diarizer_finds_who_speaks_when(diarizer, voices, max_der, min_word_accuracy):
    dialogue = synthesize_dialogue(voices)
    turns = diarizer.diarize(dialogue.audio)
    der = diarization_error_rate(dialogue.turns, turns)
    assigned = assign_speakers(without_speakers(dialogue.segments), turns)
    accuracy = word_speaker_accuracy(dialogue.words, [w for s in assigned for w in s.words])
    print(f"{len(voices)} speakers: DER {der:.3f}, word accuracy {accuracy:.3f}")

    assert {t.speaker for t in turns} == {f"SPEAKER_{i:02d}" for i in range(len(voices))}
    assert turns[0].speaker == "SPEAKER_00"
    assert der <= max_der
    assert accuracy >= min_word_accuracy
    assert all(s.speaker and all(w.speaker for w in s.words) for s in assigned)


def test_one_voice_is_one_speaker(diarizer):
    dialogue = synthesize_dialogue(("en+f3",), lines=LINES[:5])
    assert {t.speaker for t in diarizer.diarize(dialogue.audio)} == {"SPEAKER_00"}


def test_num_speakers_hint_is_honoured(diarizer):
    dialogue = synthesize_dialogue(TWO_VOICES, lines=LINES[:4])
    turns = diarizer.diarize(dialogue.audio, num_speakers=3)
    assert len({t.speaker for t in turns}) == 3


def test_silence_has_no_turns(diarizer):
    assert diarizer.diarize(np.zeros(3 * SAMPLE_RATE, np.float32)) == []


def test_pyannote_without_a_valid_local_pipeline_is_unavailable_at_once(tmp_path):
    started = time.monotonic()
    with pytest.raises(DiarizationUnavailable, match="could not be loaded"):
        load_diarizer("pyannote", pyannote_pipeline=str(tmp_path))
    assert time.monotonic() - started < 60  # import of pyannote only; nothing waits on a hub
