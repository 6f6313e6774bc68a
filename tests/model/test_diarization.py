"""The offline diarizer on espeak-ng dialogues with known turn times, end to end to words."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace

import numpy as np
import pytest

from models.diarization import (
    DiarizationUnavailable,
    assign_speakers,
    diarization_error_rate,
    load_diarizer,
    word_speaker_accuracy,
)
from models.results import Segment, Turn, Word
from tests.helpers.speech import SAMPLE_RATE, say_array

pytestmark = pytest.mark.model
os.environ.setdefault("HF_HUB_OFFLINE", "1")

LINES = [
    "Good morning, did you sleep well last night?",
    "Yes, thank you. The hotel room was quiet and the bed was comfortable.",
    "I am glad to hear that. Shall we visit the museum after breakfast?",
    "That sounds like a wonderful plan. The new exhibition is about ancient ships.",
    "There is also a small cafe on the top floor with a view of the harbour.",
    "Perfect. Let me finish my coffee and then we can leave.",
    "Take your time, we have the whole day ahead of us.",
    "Should we take the bus or walk along the river?",
    "Walking is nicer when the weather is this good.",
    "Agreed. I will bring my camera so we can take some pictures.",
]
TWO_VOICES = ("en-us", "en+f3")
THREE_VOICES = ("en-us", "en+f3", "en+f2")


@dataclass(frozen=True)
class Dialogue:
    """Synthetic speech with its ground truth: who speaks when, and each word's speaker."""

    audio: np.ndarray
    turns: list[Turn]
    segments: list[Segment]  # one per turn, words spread evenly over it, speaker = the voice

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]


def synthesize_dialogue(voices: tuple[str, ...], lines: list[str] = LINES, gap_s: float = 0.5) -> Dialogue:
    """Alternate ``voices`` over ``lines``; turn times are the clips' non-silent extents."""
    parts, turns, segments = [np.zeros(int(gap_s * SAMPLE_RATE), np.float32)], [], []
    offset = gap_s
    for index, text in enumerate(lines):
        clip = _trim(say_array(text, voice=voices[index % len(voices)]))
        speaker = voices[index % len(voices)]
        turn = Turn(round(offset, 3), round(offset + len(clip) / SAMPLE_RATE, 3), speaker)
        turns.append(turn)
        segments.append(_segment(text, turn))
        parts += [clip, np.zeros(int(gap_s * SAMPLE_RATE), np.float32)]
        offset += (len(clip) + int(gap_s * SAMPLE_RATE)) / SAMPLE_RATE
    return Dialogue(np.concatenate(parts), turns, segments)


def _trim(clip: np.ndarray, threshold: float = 1e-3) -> np.ndarray:
    loud = np.flatnonzero(np.abs(clip) > threshold)
    return clip[loud[0] : loud[-1] + 1]


def _segment(text: str, turn: Turn) -> Segment:
    tokens = text.split()
    step = (turn.end - turn.start) / len(tokens)
    words = tuple(
        Word(
            tok, round(turn.start + i * step, 3), round(turn.start + (i + 1) * step, 3), speaker=turn.speaker
        )
        for i, tok in enumerate(tokens)
    )
    return Segment(turn.start, turn.end, text, words, turn.speaker)


def _without_speakers(segments: list[Segment]) -> list[Segment]:
    return [
        replace(s, speaker=None, words=tuple(replace(w, speaker=None) for w in s.words)) for s in segments
    ]


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
    assigned = assign_speakers(_without_speakers(dialogue.segments), turns)
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
