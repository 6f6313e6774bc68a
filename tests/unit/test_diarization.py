"""Diarization logic without models: speaker assignment, DER, labels, clustering, errors."""

from __future__ import annotations

import pickle
import time

import numpy as np
import pytest

from models.diarization import (
    DiarizationUnavailable,
    assign_speakers,
    diarization_error_rate,
    diarization_errors,
    load_diarizer,
    word_speaker_accuracy,
)
from models.diarization.base import check_speaker_bounds, relabel_by_first_appearance
from models.diarization.clustering import SpeakerBounds, cluster_speakers
from models.diarization.embedding import Window, sliding_windows
from models.diarization.offline import smooth_labels, windows_to_turns
from models.results import Segment, Turn, Word

pytestmark = pytest.mark.unit

TURNS = [Turn(0.0, 2.0, "A"), Turn(2.0, 5.0, "B"), Turn(6.0, 8.0, "A")]


def _segment(*words: tuple[float, float]) -> Segment:
    items = tuple(Word(f"w{i}", start, end) for i, (start, end) in enumerate(words))
    return Segment(items[0].start, items[-1].end, "text", items)


# assign_speakers


def test_word_takes_the_speaker_it_overlaps_most():
    [segment] = assign_speakers([_segment((1.5, 2.6))], TURNS)
    assert segment.words[0].speaker == "B"  # 0.6 s with B beats 0.5 s with A


def test_word_outside_every_turn_takes_the_nearest_turn():
    [segment] = assign_speakers([_segment((5.2, 5.4), (5.7, 5.9), (9.0, 9.5))], TURNS)
    assert [w.speaker for w in segment.words] == ["B", "A", "A"]


def test_segment_takes_the_majority_of_its_words():
    [segment] = assign_speakers([_segment((1.0, 1.5), (2.5, 3.0), (3.0, 3.5))], TURNS)
    assert segment.speaker == "B"


def test_segment_without_words_is_decided_by_overlap():
    [segment] = assign_speakers([Segment(1.0, 4.0, "text")], TURNS)
    assert segment.speaker == "B" and segment.words == ()


def test_overlapping_turns_sum_per_speaker():
    turns = [Turn(0.0, 1.0, "A"), Turn(0.2, 0.5, "B"), Turn(0.6, 0.9, "B"), Turn(0.0, 0.45, "C")]
    [segment] = assign_speakers([_segment((0.2, 0.9))], turns)
    assert segment.words[0].speaker == "A"  # A 0.7 s, B 0.6 s, C 0.25 s


def test_no_turns_leaves_segments_unchanged():
    segments = [_segment((0.0, 1.0))]
    assert assign_speakers(segments, []) == segments


# metrics


def test_der_is_zero_for_identical_turns_whatever_the_labels():
    renamed = [Turn(t.start, t.end, {"A": "X", "B": "Y"}[t.speaker]) for t in TURNS]
    assert diarization_error_rate(TURNS, renamed) == 0.0


def test_der_of_a_shifted_boundary():
    hypothesis = [Turn(0.0, 2.5, "A"), Turn(2.5, 5.0, "B"), Turn(6.0, 8.0, "A")]
    errors = diarization_errors(TURNS, hypothesis)
    assert errors.confusion == pytest.approx(0.5)
    assert errors.missed == errors.false_alarm == 0.0
    assert errors.der == pytest.approx(0.5 / 7.0)


def test_der_counts_missed_speech_and_false_alarm():
    hypothesis = [Turn(0.0, 2.0, "A"), Turn(2.0, 4.0, "B"), Turn(6.0, 9.0, "A")]
    errors = diarization_errors(TURNS, hypothesis)
    assert (errors.missed, errors.false_alarm, errors.confusion) == pytest.approx((1.0, 1.0, 0.0))


def test_der_penalises_merging_two_speakers():
    merged = [Turn(0.0, 5.0, "X"), Turn(6.0, 8.0, "X")]
    assert diarization_error_rate(TURNS, merged) == pytest.approx(3.0 / 7.0)


def test_collar_forgives_boundaries():
    hypothesis = [Turn(0.0, 2.1, "A"), Turn(2.1, 5.0, "B"), Turn(6.0, 8.0, "A")]
    assert diarization_error_rate(TURNS, hypothesis) > 0
    assert diarization_error_rate(TURNS, hypothesis, collar=0.5) == 0.0


def test_word_speaker_accuracy_maps_labels_one_to_one():
    reference = [Word("w", 0, 1, speaker=s) for s in "AABBA"]
    hypothesis = [Word("w", 0, 1, speaker=s) for s in "XXYYY"]
    assert word_speaker_accuracy(reference, hypothesis) == pytest.approx(0.8)
    merged = [Word("w", 0, 1, speaker="X")] * 5
    assert word_speaker_accuracy(reference, merged) == pytest.approx(0.6)


# labels, windows and clustering of the offline backend


def test_labels_follow_first_appearance():
    turns = [Turn(3.0, 4.0, "7"), Turn(0.0, 1.0, "3"), Turn(1.0, 2.0, "7"), Turn(5.0, 6.0, "1")]
    assert [t.speaker for t in relabel_by_first_appearance(turns)] == [
        "SPEAKER_00", "SPEAKER_01", "SPEAKER_01", "SPEAKER_02",
    ]  # fmt: skip


def test_sliding_windows_cover_each_region():
    windows = sliding_windows([(0.0, 2.6), (3.0, 3.8)], window_s=1.5, hop_s=0.5)
    assert [(w.start, w.end, w.region) for w in windows] == [
        (0.0, 1.5, 0), (0.5, 2.0, 0), (1.0, 2.5, 0), (1.1, 2.6, 0), (3.0, 3.8, 1),
    ]  # fmt: skip


def test_turns_split_at_window_midpoints_and_bridge_only_short_pauses():
    windows = [Window(0.0, 1.5, 0), Window(0.5, 2.0, 0), Window(1.0, 2.5, 0), Window(3.0, 4.0, 1)]
    labels = np.array([1, 1, 0, 0])
    assert windows_to_turns(windows, labels, bridge_gap_s=0.3) == [
        Turn(0.0, 1.5, "SPEAKER_01"), Turn(1.5, 2.5, "SPEAKER_00"), Turn(3.0, 4.0, "SPEAKER_00"),
    ]  # fmt: skip
    assert windows_to_turns(windows, labels, bridge_gap_s=0.5)[1:] == [Turn(1.5, 4.0, "SPEAKER_00")]


def test_smoothing_removes_a_lone_flip_inside_a_region_only():
    windows = [Window(i * 0.5, i * 0.5 + 1.5, 0) for i in range(5)] + [Window(9.0, 10.0, 1)]
    smoothed = smooth_labels(np.array([0, 0, 1, 0, 0, 1]), windows, width=3)
    assert smoothed.tolist() == [0, 0, 0, 0, 0, 1]


def _blobs(centres: int, per_centre: int = 20, spread: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """Unit-norm "embeddings" around random voices sharing a common component, like d-vectors."""
    rng = np.random.default_rng(7)
    common = rng.normal(size=64) * 3
    voices = rng.normal(size=(centres, 64))
    truth = np.repeat(np.arange(centres), per_centre)
    points = common + voices[truth] + rng.normal(scale=spread * 8, size=(len(truth), 64))
    return points / np.linalg.norm(points, axis=1, keepdims=True), truth


@pytest.mark.parametrize("speakers", [1, 2, 3, 4])
def test_clustering_estimates_the_speaker_count(speakers):
    points, truth = _blobs(speakers)
    labels = cluster_speakers(points, SpeakerBounds(1, 8))
    assert len(set(labels)) == speakers
    assert all(len(set(labels[truth == s])) == 1 for s in range(speakers))


def test_clustering_honours_an_exact_count_but_not_beyond_the_windows():
    points, _ = _blobs(2)
    assert len(set(cluster_speakers(points, SpeakerBounds(3, 3)))) == 3
    assert len(set(cluster_speakers(points[:1], SpeakerBounds(2, 2)))) == 1


def test_clustering_keeps_the_minimum_count_even_for_one_voice():
    points, _ = _blobs(1)
    assert len(set(cluster_speakers(points, SpeakerBounds(2, 8)))) == 2


def test_speaker_hints_are_validated():
    with pytest.raises(ValueError, match="min_speakers"):
        check_speaker_bounds(None, 3, 2)
    with pytest.raises(ValueError, match="num_speakers"):
        check_speaker_bounds(0, None, None)


# the pyannote backend when it cannot run


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "HF_WHISPERX"),
        ({"hf_token": "hf_secret", "hub_online": False}, "HF_WHISPERX"),
        ({"hub_online": True}, "HF_WHISPERX"),
        ({"pyannote_pipeline": "/nonexistent/pipeline"}, "does not exist"),
    ],
)
def test_pyannote_unavailable_fails_fast_and_clearly(kwargs, message):
    started = time.monotonic()
    with pytest.raises(DiarizationUnavailable, match=message) as caught:
        load_diarizer("pyannote", **kwargs)
    assert time.monotonic() - started < 2.0
    assert "hf_secret" not in str(caught.value)
    restored = pickle.loads(pickle.dumps(caught.value))
    assert (restored.code, restored.status, str(restored)) == (
        "diarization_unavailable", 503, str(caught.value),
    )  # fmt: skip


def test_unknown_backend_is_rejected():
    with pytest.raises(ValueError, match="offline"):
        load_diarizer("nemo")  # type: ignore[arg-type]
