"""The offline backend: Silero VAD + resemblyzer window embeddings + spectral clustering.

Every weight it uses ships inside an installed wheel (silero-vad, resemblyzer), so it works on an
air-gapped machine with nothing configured. It assumes one speaker at a time: overlapping speech
is attributed to whoever dominates the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from models.diarization.base import (
    SAMPLE_RATE,
    check_sample_rate,
    check_speaker_bounds,
    relabel_by_first_appearance,
    speaker_label,
)
from models.diarization.clustering import (
    ClusteringConfig,
    SpeakerBounds,
    centre_embeddings,
    cluster_speakers,
)
from models.diarization.embedding import Window, WindowEmbedder, sliding_windows
from models.results import Turn


@dataclass(frozen=True)
class OfflineConfig:
    """Windowing and smoothing of the offline backend."""

    window_s: float = 1.5  # long enough for a stable d-vector, short enough to place a change
    hop_s: float = 0.5
    min_cluster_window_s: float = 0.5  # shorter windows are classified, not clustered
    max_clustered_windows: int = 1500  # ~12 min of speech at a 0.5 s hop; beyond, subsample
    smoothing_windows: int = 3  # majority filter width, in windows, inside one speech region
    bridge_gap_s: float = 0.3  # a same-speaker pause this short stays inside the turn
    clustering: ClusteringConfig = field(default_factory=ClusteringConfig)


class OfflineDiarizer:
    """Diarizer built only from packaged weights; load once, call from one thread at a time."""

    def __init__(self, device: str = "cpu", config: OfflineConfig = OfflineConfig()) -> None:
        from models.vad import SpeechDetector

        self._vad = SpeechDetector()
        self._embedder = WindowEmbedder(device)
        self._config = config

    def diarize(
        self,
        audio: np.ndarray,
        sample_rate: int = SAMPLE_RATE,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
    ) -> list[Turn]:
        check_sample_rate(sample_rate)
        check_speaker_bounds(num_speakers, min_speakers, max_speakers)
        regions = self._vad.regions(audio, sample_rate)
        windows = sliding_windows(regions, self._config.window_s, self._config.hop_s)
        if not windows:
            return []
        bounds = SpeakerBounds.from_hints(
            num_speakers, min_speakers, max_speakers, self._config.clustering.default_max_speakers
        )
        labels = self._label_windows(self._embedder.embed(audio, windows), windows, bounds)
        labels = smooth_labels(labels, windows, self._config.smoothing_windows)
        turns = windows_to_turns(windows, labels, self._config.bridge_gap_s)
        return relabel_by_first_appearance(turns)

    def _label_windows(
        self, embeddings: np.ndarray, windows: list[Window], bounds: SpeakerBounds
    ) -> np.ndarray:
        """Cluster a bounded set of windows long enough to trust; give the rest the nearest cluster.

        Spectral clustering costs O(n³) in the window count, so a long recording clusters an even
        subsample (every k-th window) and classifies the others against its centroids.
        """
        clustered = np.array([w.duration >= self._config.min_cluster_window_s for w in windows])
        if not clustered.any():
            clustered[:] = True
        chosen = np.flatnonzero(clustered)
        stride = int(np.ceil(len(chosen) / self._config.max_clustered_windows))
        clustered[:] = False
        clustered[chosen[::stride]] = True
        labels = np.full(len(windows), -1)
        labels[clustered] = cluster_speakers(embeddings[clustered], bounds, self._config.clustering)
        if not clustered.all():
            labels[~clustered] = nearest_centroid(embeddings, labels, ~clustered)
        return labels


def nearest_centroid(embeddings: np.ndarray, labels: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Label the ``query`` rows with the cluster whose centred centroid is most similar."""
    centred = centre_embeddings(embeddings)
    ids = np.unique(labels[~query])
    centroids = np.stack([centred[labels == i].mean(axis=0) for i in ids])
    return ids[np.argmax(centred[query] @ centroids.T, axis=1)]


def smooth_labels(labels: np.ndarray, windows: list[Window], width: int) -> np.ndarray:
    """Majority-filter labels inside each run of overlapping windows (one speech region).

    A single window that disagrees with both neighbours is almost always an embedding glitch,
    not a 0.5 s interjection, so it takes its neighbours' label.
    """
    smoothed = labels.copy()
    half = width // 2
    for first, last in _region_runs(windows):
        for i in range(first, last):
            lo, hi = max(first, i - half), min(last, i + half + 1)
            values, counts = np.unique(labels[lo:hi], return_counts=True)
            if counts.max() > (hi - lo) // 2:
                smoothed[i] = values[np.argmax(counts)]
    return smoothed


def windows_to_turns(windows: list[Window], labels: np.ndarray, bridge_gap_s: float = 0.0) -> list[Turn]:
    """Cut each region at the midpoints between window centres and merge equal neighbours.

    Overlapping windows with different labels thus split their shared span halfway between their
    centres. A pause of at most ``bridge_gap_s`` between two turns of one speaker (a comma, a
    breath) joins them, as human annotators would; longer silences end the turn.
    """
    turns: list[Turn] = []
    for first, last in _region_runs(windows):
        centres = [w.centre for w in windows[first:last]]
        mids = [(a + b) / 2 for a, b in pairwise(centres)]
        cuts = [windows[first].start, *mids, windows[last - 1].end]
        for i, label in enumerate(labels[first:last]):
            speaker = speaker_label(int(label))
            if turns and turns[-1].speaker == speaker and cuts[i] - turns[-1].end <= bridge_gap_s:
                turns[-1] = Turn(turns[-1].start, cuts[i + 1], speaker)
            else:
                turns.append(Turn(cuts[i], cuts[i + 1], speaker))
    return [Turn(round(t.start, 3), round(t.end, 3), t.speaker) for t in turns]


def _region_runs(windows: list[Window]) -> list[tuple[int, int]]:
    """Index ranges ``[first, last)`` of windows that belong to the same speech region."""
    runs: list[tuple[int, int]] = []
    first = 0
    for i in range(1, len(windows) + 1):
        if i == len(windows) or windows[i].region != windows[i - 1].region:
            runs.append((first, i))
            first = i
    return runs
