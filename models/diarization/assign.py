"""Give every word and segment of a transcript a speaker from diarization turns.

Semantics follow whisperx's ``assign_word_speakers`` with ``fill_nearest=True``: the speaker whose
turns overlap a word the longest wins, and a word in no turn (VAD and ASR disagree about edges)
takes the nearest turn's speaker. A segment then takes the majority speaker of its words, since
the words carry the finer timing; a segment without words is decided by overlap in the same way.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from dataclasses import replace

from models.results import Segment, Turn, Word


class TurnIndex:
    """Turns sorted by start, for overlap and nearest-turn queries in O(log n + hits)."""

    def __init__(self, turns: list[Turn]) -> None:
        self._turns = sorted(turns, key=lambda t: t.start)
        self._starts = [t.start for t in self._turns]
        self._longest = max((t.end - t.start for t in self._turns), default=0.0)
        self._latest_ending: list[Turn] = []  # [i]: the turn ending last among turns[: i + 1]
        for turn in self._turns:
            previous = self._latest_ending[-1] if self._latest_ending else turn
            self._latest_ending.append(turn if turn.end >= previous.end else previous)

    def speaker_at(self, start: float, end: float) -> str:
        """The speaker overlapping ``[start, end]`` the longest, else the nearest turn's."""
        overlap: dict[str, float] = defaultdict(float)
        first = bisect.bisect_left(self._starts, start - self._longest)
        last = bisect.bisect_right(self._starts, end)
        for turn in self._turns[first:last]:
            shared = min(turn.end, end) - max(turn.start, start)
            if shared > 0:
                overlap[turn.speaker] += shared
        if overlap:
            return max(overlap.items(), key=lambda item: item[1])[0]
        return self._nearest((start + end) / 2)

    def _nearest(self, time: float) -> str:
        """The speaker of the turn whose nearest edge is closest to ``time`` (ties: earlier)."""
        after = bisect.bisect_right(self._starts, time)
        candidates = self._latest_ending[after - 1 : after] + self._turns[after : after + 1]
        return min(candidates, key=lambda t: max(t.start - time, time - t.end)).speaker


def assign_speakers(segments: list[Segment], turns: list[Turn]) -> list[Segment]:
    """Return copies of ``segments`` with ``speaker`` set on each segment and word.

    With no turns at all there is nobody to assign, and the segments come back unchanged.
    """
    if not turns:
        return list(segments)
    index = TurnIndex(turns)
    return [_assign_segment(segment, index) for segment in segments]


def _assign_segment(segment: Segment, index: TurnIndex) -> Segment:
    words = tuple(replace(w, speaker=index.speaker_at(w.start, w.end)) for w in segment.words)
    if not words:
        return replace(segment, speaker=index.speaker_at(segment.start, segment.end))
    return replace(segment, words=words, speaker=_majority(words))


def _majority(words: tuple[Word, ...]) -> str:
    """Most frequent speaker among the words; ties go to the one who speaks first."""
    speakers = [str(w.speaker) for w in words]
    counts = Counter(speakers)
    best = max(counts.values())
    return next(s for s in speakers if counts[s] == best)
