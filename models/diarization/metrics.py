"""Diarization quality: diarization error rate (DER) and word-speaker accuracy.

Both map hypothesis speakers to reference speakers one-to-one with the Hungarian algorithm, so
labels need not match by name and merging two people into one label is penalised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from models.results import Turn, Word

FRAME_S = 0.01


@dataclass(frozen=True)
class DiarizationErrors:
    """DER components in seconds of reference speech (overlaps count once per speaker)."""

    total: float
    missed: float
    false_alarm: float
    confusion: float

    @property
    def der(self) -> float:
        """Error over total reference speech; 0 when both are empty, inf for speech out of nothing."""
        errors = self.missed + self.false_alarm + self.confusion
        if self.total == 0:
            return 0.0 if errors == 0 else float("inf")
        return errors / self.total


def diarization_errors(
    reference: Sequence[Turn], hypothesis: Sequence[Turn], collar: float = 0.0
) -> DiarizationErrors:
    """Frame-level (10 ms) DER components under the best speaker mapping.

    ``collar`` follows pyannote.metrics: that many seconds around each reference turn boundary
    (half before, half after) are not scored, forgiving imprecise annotation of edges.
    """
    end = max((t.end for t in [*reference, *hypothesis]), default=0.0)
    frames = int(np.ceil(end / FRAME_S)) + 1
    ref, hyp = _activity(reference, frames), _activity(hypothesis, frames)
    scored = _scored_frames(reference, frames, collar)
    ref, hyp = ref[scored], hyp[scored]
    n_ref, n_hyp = ref.sum(axis=1), hyp.sum(axis=1)
    co_occurrence = ref.T.astype(np.int64) @ hyp.astype(np.int64)
    rows, cols = linear_sum_assignment(co_occurrence, maximize=True)
    correct = int(co_occurrence[rows, cols].sum())
    return DiarizationErrors(
        total=float(n_ref.sum()) * FRAME_S,
        missed=float(np.maximum(n_ref - n_hyp, 0).sum()) * FRAME_S,
        false_alarm=float(np.maximum(n_hyp - n_ref, 0).sum()) * FRAME_S,
        confusion=float(np.minimum(n_ref, n_hyp).sum() - correct) * FRAME_S,
    )


def diarization_error_rate(
    reference: Sequence[Turn], hypothesis: Sequence[Turn], collar: float = 0.0
) -> float:
    """(missed + false alarm + confusion) / reference speech time; see :func:`diarization_errors`."""
    return diarization_errors(reference, hypothesis, collar).der


def word_speaker_accuracy(reference: Sequence[Word], hypothesis: Sequence[Word]) -> float:
    """Share of words whose hypothesis speaker maps to their reference speaker.

    The two sequences hold the same words in the same order (e.g. one transcript before and after
    :func:`assign_speakers`); only their ``speaker`` fields are compared. A missing hypothesis
    speaker counts as wrong.
    """
    if len(reference) != len(hypothesis):
        raise ValueError(f"{len(reference)} reference words but {len(hypothesis)} hypothesis words")
    if not reference:
        return 1.0
    ref_ids, ref_codes = np.unique([str(w.speaker) for w in reference], return_inverse=True)
    hyp_ids, hyp_codes = np.unique([str(w.speaker) for w in hypothesis], return_inverse=True)
    counts = np.zeros((len(ref_ids), len(hyp_ids)), dtype=np.int64)
    np.add.at(counts, (ref_codes, hyp_codes), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    matched = [counts[r, c] for r, c in zip(rows, cols, strict=True) if hyp_ids[c] != "None"]
    return float(sum(matched)) / len(reference)


def _activity(turns: Sequence[Turn], frames: int) -> np.ndarray:
    """``(frames, speakers)`` booleans: who speaks in each frame."""
    speakers = sorted({t.speaker for t in turns})
    active = np.zeros((frames, len(speakers)), dtype=bool)
    for turn in turns:
        first, last = _frame(turn.start), _frame(turn.end)
        active[first:last, speakers.index(turn.speaker)] = True
    return active


def _scored_frames(reference: Sequence[Turn], frames: int, collar: float) -> np.ndarray:
    scored = np.ones(frames, dtype=bool)
    if collar > 0:
        for boundary in {b for t in reference for b in (t.start, t.end)}:
            scored[_frame(boundary - collar / 2) : _frame(boundary + collar / 2)] = False
    return scored


def _frame(time: float) -> int:
    return max(0, round(time / FRAME_S))
