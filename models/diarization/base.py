"""The diarizer interface shared by every backend, and the label convention they all follow."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np

from models.results import Turn

SAMPLE_RATE = 16000


class Diarizer(Protocol):
    """Finds who speaks when in 16 kHz mono float32 audio.

    Speakers are labelled ``SPEAKER_00``, ``SPEAKER_01``… in order of first appearance, so two
    backends (or two runs) on the same audio produce comparable labels.
    """

    def diarize(
        self,
        audio: np.ndarray,
        sample_rate: int = SAMPLE_RATE,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
    ) -> list[Turn]: ...


def speaker_label(index: int) -> str:
    return f"SPEAKER_{index:02d}"


def relabel_by_first_appearance(turns: Iterable[Turn]) -> list[Turn]:
    """Sort turns by time and rename speakers ``SPEAKER_00``… in the order they first speak."""
    ordered = sorted(turns, key=lambda t: (t.start, t.end))
    names: dict[str, str] = {}
    for turn in ordered:
        names.setdefault(turn.speaker, speaker_label(len(names)))
    return [Turn(t.start, t.end, names[t.speaker]) for t in ordered]


def check_sample_rate(sample_rate: int) -> None:
    """Both backends' models were trained on 16 kHz audio; resampling is the decoder's job."""
    if sample_rate != SAMPLE_RATE:
        raise ValueError(f"Diarization needs {SAMPLE_RATE} Hz audio, got {sample_rate} Hz")


def check_speaker_bounds(
    num_speakers: int | None, min_speakers: int | None, max_speakers: int | None
) -> None:
    """Reject impossible speaker-count hints before any model runs."""
    for name, value in (("num", num_speakers), ("min", min_speakers), ("max", max_speakers)):
        if value is not None and value < 1:
            raise ValueError(f"{name}_speakers must be at least 1, got {value}")
    if min_speakers is not None and max_speakers is not None and min_speakers > max_speakers:
        raise ValueError(f"min_speakers ({min_speakers}) exceeds max_speakers ({max_speakers})")
