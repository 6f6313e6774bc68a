"""A clip that a packed decode drops is decoded again alone: packing never loses a caller's words."""

from __future__ import annotations

import numpy as np
import pytest

from models.engine import ChunkRequest, WhisperEngine
from models.results import Segment, Word

pytestmark = pytest.mark.unit


class DroppingEngine(WhisperEngine):
    """The real planning and splitting; a fake decoder that hears only the first clip of a window."""

    def __init__(self) -> None:  # no model: _decode is replaced
        self.pack, self.stack, self.pack_gap_s, self.max_stack = True, False, 1.0, 16
        self.decoded_windows: list[int] = []

    @property
    def multilingual(self) -> bool:
        return True

    def _decode(self, windows):
        out = []
        for window in windows:
            self.decoded_windows.append(len(window.placements))
            first = min(window.placements, key=lambda p: p.offset)
            end = first.offset + first.duration
            word = Word(f"clip{first.index}", first.offset + 0.1, end - 0.1)
            out.append([Segment(word.start, word.end, word.word, (word,))])
        return out


def test_dropped_clips_are_decoded_alone():
    engine = DroppingEngine()
    items = [ChunkRequest(audio=np.full(16000 * 3, 0.1, np.float32), language="en") for _ in range(3)]
    results = engine.transcribe_batch(items)
    assert [[w.word for s in r.segments for w in s.words] for r in results] == [
        ["clip0"],
        ["clip1"],
        ["clip2"],
    ]
    assert engine.decoded_windows == [3, 1, 1]  # one packed pass, then the two lost clips alone
