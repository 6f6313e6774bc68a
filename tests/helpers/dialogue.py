"""Synthetic multi-speaker dialogues with known turn times (espeak-ng voices), for diarization
tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from models.results import Segment, Turn, Word
from tests.helpers.speech import SAMPLE_RATE, say_array

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


def without_speakers(segments: list[Segment]) -> list[Segment]:
    return [
        replace(s, speaker=None, words=tuple(replace(w, speaker=None) for w in s.words)) for s in segments
    ]
