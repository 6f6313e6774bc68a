"""Packing: several short clips in one 30-s Whisper window, and their words split back by time.

Whisper's encoder always processes 30 s, so a 4-s clip pays for 30. Placing clips of the same
language side by side, with silence between them, decodes them in one pass; every word is then
handed back to the clip its timestamps fall in. A word is never given to a clip it does not
overlap unless it lies in a gap, where the nearest clip takes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.results import Segment, Word

SAMPLE_RATE = 16000
WINDOW_S = 30.0
MIN_GAP_S = 0.6


@dataclass(frozen=True)
class Placement:
    """Where clip ``index`` (of the caller's list) sits inside a packed window."""

    index: int
    offset: float
    duration: float

    @property
    def end(self) -> float:
        return self.offset + self.duration


def plan_windows(
    durations: list[float], window_s: float = WINDOW_S, gap_s: float = 1.0
) -> list[list[Placement]]:
    """Pack clips into as few windows as possible (first-fit decreasing).

    Each window holds clips separated by ``gap_s`` of silence and ends by ``window_s``. Clips
    keep their caller order inside a window, which keeps the decoder's context natural.
    """
    if gap_s < MIN_GAP_S:
        raise ValueError(f"gap_s must be at least {MIN_GAP_S} s so words stay attributable")
    bins: list[list[int]] = []
    used: list[float] = []
    for index in sorted(range(len(durations)), key=lambda i: -durations[i]):
        need = durations[index]
        slot = next((b for b, u in enumerate(used) if u + gap_s + need <= window_s), None)
        if slot is None:
            bins.append([index])
            used.append(need)
        else:
            bins[slot].append(index)
            used[slot] += gap_s + need
    return [_place(sorted(indices), durations, gap_s) for indices in bins]


def _place(indices: list[int], durations: list[float], gap_s: float) -> list[Placement]:
    placements, offset = [], 0.0
    for index in indices:
        placements.append(Placement(index, round(offset, 3), durations[index]))
        offset += durations[index] + gap_s
    return placements


def window_audio(clips: list[np.ndarray], placements: list[Placement]) -> np.ndarray:
    """The window's samples: each clip at its offset, silence elsewhere."""
    end = max(round(p.offset * SAMPLE_RATE) + len(clips[p.index]) for p in placements)
    audio = np.zeros(end, dtype=np.float32)
    for p in placements:
        start = round(p.offset * SAMPLE_RATE)
        audio[start : start + len(clips[p.index])] = clips[p.index]
    return audio


def owner_of(start: float, end: float, placements: list[Placement]) -> int:
    """Position in ``placements`` of the clip that owns a word spanning ``start``–``end``.

    The clip containing the word's midpoint owns it; a word in a gap (or past either end) goes to
    the clip whose edge is nearest.
    """
    middle = (start + end) / 2
    distances = [max(p.offset - middle, middle - p.end, 0.0) for p in placements]
    return min(range(len(placements)), key=distances.__getitem__)


def split_segments(segments: list[Segment], placements: list[Placement]) -> list[list[Segment]]:
    """Split a packed window's segments per clip, with times re-based to each clip's start.

    A window segment whose words belong to two clips becomes one segment in each. A segment
    without words (alignment found none) goes whole to the clip that owns its midpoint.
    """
    per_clip: list[list[Segment]] = [[] for _ in placements]
    for segment in segments:
        if not segment.words:
            owner = owner_of(segment.start, segment.end, placements)
            per_clip[owner].append(_rebased(segment, placements[owner]))
            continue
        groups: dict[int, list[Word]] = {}
        for word in segment.words:
            groups.setdefault(owner_of(word.start, word.end, placements), []).append(word)
        for owner, words in groups.items():
            per_clip[owner].append(_from_words(words, placements[owner]))
    return per_clip


def _from_words(words: list[Word], placement: Placement) -> Segment:
    """A segment made of one clip's words; words keep Whisper's leading spaces, so join is exact."""
    rebased = tuple(_clamp(w.shifted(-placement.offset), placement.duration) for w in words)
    text = "".join(w.word for w in rebased).strip()
    return Segment(start=rebased[0].start, end=rebased[-1].end, text=text, words=rebased)


def _rebased(segment: Segment, placement: Placement) -> Segment:
    start = min(max(segment.start - placement.offset, 0.0), placement.duration)
    end = min(max(segment.end - placement.offset, start), placement.duration)
    return Segment(start=round(start, 3), end=round(end, 3), text=segment.text)


def _clamp(word: Word, duration: float) -> Word:
    start = min(max(word.start, 0.0), duration)
    end = min(max(word.end, start), duration)
    return Word(word.word, round(start, 3), round(end, 3), word.probability, word.speaker)
