"""Packing plan and word → owner assignment, on synthetic words (no model)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from models.packing import Placement, owner_of, plan_windows, split_segments, window_audio
from models.results import Segment, Word

pytestmark = pytest.mark.unit


def test_plan_fits_windows_with_gaps_and_keeps_caller_order():
    durations = [3.7] * 8
    windows = plan_windows(durations, window_s=30.0, gap_s=1.0)
    assert [len(w) for w in windows] == [6, 2]
    for window in windows:
        assert [p.index for p in window] == sorted(p.index for p in window)
        assert window[-1].end <= 30.0
        for left, right in itertools.pairwise(window):
            assert right.offset - left.end == pytest.approx(1.0)
    assert sorted(p.index for w in windows for p in w) == list(range(8))


def test_long_clips_stay_alone():
    windows = plan_windows([29.0, 2.0, 25.0], gap_s=1.0)
    assert sorted(len(w) for w in windows) == [1, 2]
    assert any([p.index for p in w] == [0] for w in windows)


def test_gap_below_minimum_is_refused():
    with pytest.raises(ValueError):
        plan_windows([1.0, 1.0], gap_s=0.2)


def test_window_audio_places_clips_at_offsets():
    clips = [np.ones(16000, dtype=np.float32), np.full(8000, 2.0, dtype=np.float32)]
    placements = [Placement(0, 0.0, 1.0), Placement(1, 2.0, 0.5)]
    audio = window_audio(clips, placements)
    assert len(audio) == 40000
    assert audio[:16000].min() == 1.0 and audio[16000:32000].max() == 0.0 and audio[32000:].min() == 2.0


PLACEMENTS = [Placement(0, 0.0, 3.0), Placement(1, 4.0, 2.0), Placement(2, 7.0, 3.0)]


@pytest.mark.parametrize(
    ("start", "end", "owner"),
    [
        (0.5, 0.9, 0),  # inside clip 0
        (4.1, 4.5, 1),  # inside clip 1
        (2.8, 3.4, 0),  # straddles clip 0's end: midpoint 3.1 is nearest clip 0
        (3.7, 3.9, 1),  # in the gap, nearer clip 1
        (6.2, 6.3, 1),  # in the gap, nearer clip 1's end
        (6.8, 6.9, 2),  # in the gap, nearer clip 2
        (11.0, 11.5, 2),  # past the end
    ],
)
def test_owner_by_midpoint_then_nearest_edge(start, end, owner):
    assert owner_of(start, end, PLACEMENTS) == owner


def w(text: str, start: float, end: float) -> Word:
    return Word(text, start, end, 0.9)


def test_segment_spanning_two_clips_is_split_and_rebased():
    words = (w(" alpha", 0.2, 0.6), w(" beta", 0.7, 2.9), w(" gamma", 4.1, 4.6), w(" delta.", 4.7, 5.9))
    segment = Segment(0.2, 5.9, "alpha beta gamma delta.", words)
    own = split_segments(
        [segment, Segment(7.2, 9.0, "epsilon zeta", (w(" epsilon", 7.2, 8.0), w(" zeta", 8.1, 9.0)))],
        PLACEMENTS,
    )
    assert [s.text for s in own[0]] == ["alpha beta"]
    assert [s.text for s in own[1]] == ["gamma delta."]
    assert [s.text for s in own[2]] == ["epsilon zeta"]
    assert own[1][0].start == pytest.approx(0.1) and own[1][0].end == pytest.approx(1.9)
    assert [x.start for x in own[2][0].words] == [pytest.approx(0.2), pytest.approx(1.1)]


def test_no_word_leaks_into_another_clip():
    words = tuple(w(f" c{int(t // 1)}", t, t + 0.3) for t in np.arange(0.0, 10.0, 0.5))
    own = split_segments([Segment(0.0, 10.3, "", words)], PLACEMENTS)
    for index, placement in enumerate(PLACEMENTS):
        for segment in own[index]:
            for word in segment.words:
                original = word.start + placement.offset
                assert owner_of(original, original + 0.3, PLACEMENTS) == index
                assert 0.0 <= word.start <= word.end <= placement.duration


def test_word_times_are_clamped_into_the_clip():
    own = split_segments([Segment(3.6, 4.5, "x", (w(" x", 3.6, 4.5),))], PLACEMENTS)
    (segment,) = own[1]
    assert segment.words[0].start == 0.0 and segment.words[0].end == 0.5


def test_segment_without_words_goes_whole_to_its_midpoint_owner():
    own = split_segments([Segment(7.5, 9.5, "no words here")], PLACEMENTS)
    assert own[0] == [] and own[1] == []
    assert own[2] == [Segment(0.5, 2.5, "no words here")]
