"""Engine results: words, segments, transcripts and speaker turns.

Times are seconds. A result produced for one chunk is relative to the chunk start; the task runner
shifts it onto the whole recording with :meth:`Segment.shifted`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    probability: float = 1.0
    speaker: str | None = None

    def shifted(self, offset: float) -> Word:
        return replace(self, start=round(self.start + offset, 3), end=round(self.end + offset, 3))


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    speaker: str | None = None

    def shifted(self, offset: float) -> Segment:
        return replace(
            self,
            start=round(self.start + offset, 3),
            end=round(self.end + offset, 3),
            words=tuple(w.shifted(offset) for w in self.words),
        )


@dataclass(frozen=True)
class Turn:
    """One speaker turn found by diarization."""

    start: float
    end: float
    speaker: str


@dataclass
class Transcript:
    language: str
    segments: list[Segment] = field(default_factory=list)
    duration: float = 0.0

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    def to_dict(self) -> dict:
        return asdict(self)
