"""Group window embeddings by speaker: spectral clustering with an eigengap speaker count.

Why these steps: d-vectors of one recording share a large common component (channel, language,
loudness), so raw cosine similarities sit in a narrow band. Subtracting the recording's mean
embedding and re-normalising spreads them out. Pruning the affinity to each window's nearest
neighbours (Park et al., "Auto-tuning spectral clustering", 2019) keeps only confident links, so
the Laplacian's eigengap shows the speaker count. The eigengap never says "one speaker", so one
voice is recognised by a well-connected graph whose two halves have alike raw centroids; the
centroid test also merges over-split clusters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import eigh
from sklearn.cluster import KMeans


@dataclass(frozen=True)
class ClusteringConfig:
    """Knobs of :func:`cluster_speakers`, tuned on espeak-ng dialogues (see the benchmark)."""

    prune_fraction: float = 0.25  # share of neighbours kept per row of the affinity matrix
    default_max_speakers: int = 8  # search bound when the caller gives none
    merge_similarity: float = 0.92  # raw-centroid cosine above which two clusters are one voice
    one_voice_connectivity: float = 0.05  # Fiedler value above which the graph may be one voice
    seed: int = 0


@dataclass(frozen=True)
class SpeakerBounds:
    """The speaker count to find: exact when ``low == high``."""

    low: int
    high: int

    @classmethod
    def from_hints(
        cls, num: int | None, low: int | None, high: int | None, default_high: int
    ) -> SpeakerBounds:
        if num is not None:
            return cls(num, num)
        low = low or 1
        return cls(low, max(low, high or default_high))


def centre_embeddings(embeddings: np.ndarray) -> np.ndarray:
    """L2-normalise, subtract the recording's mean embedding, and L2-normalise again."""
    unit = _normalise(embeddings)
    return _normalise(unit - unit.mean(axis=0))


def cluster_speakers(
    embeddings: np.ndarray, bounds: SpeakerBounds, config: ClusteringConfig = ClusteringConfig()
) -> np.ndarray:
    """Return one integer speaker id per embedding row, honouring ``bounds``."""
    count = len(embeddings)
    high = min(bounds.high, count)
    if high <= 1:
        return np.zeros(count, dtype=int)
    low = min(bounds.low, high)
    unit = _normalise(embeddings)
    eigenvalues, eigenvectors = _laplacian_spectrum(centre_embeddings(embeddings), config)
    if low == high:
        return _spectral_labels(eigenvectors, low, config.seed)
    if low == 1 and _is_one_voice(unit, eigenvalues, eigenvectors, config):
        return np.zeros(count, dtype=int)
    k = _eigengap_count(eigenvalues, max(2, low), high)
    labels = _spectral_labels(eigenvectors, k, config.seed)
    return _merge_same_voice(unit, labels, max(2, low), config.merge_similarity)


def _spectral_labels(eigenvectors: np.ndarray, k: int, seed: int) -> np.ndarray:
    features = _normalise(eigenvectors[:, :k])
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(features)


def _is_one_voice(
    unit: np.ndarray, eigenvalues: np.ndarray, eigenvectors: np.ndarray, config: ClusteringConfig
) -> bool:
    """Whether the windows form one well-connected graph whose best split has one voice both sides.

    The eigengap cannot answer "one speaker", so two signs must agree: no near-zero second
    eigenvalue (several speakers make the pruned graph almost disconnected), and the two halves'
    raw centroids, which average enough windows to be stable, look like the same voice.
    """
    if eigenvalues[1] < config.one_voice_connectivity:
        return False
    halves = _spectral_labels(eigenvectors, 2, config.seed)
    return len(np.unique(_merge_same_voice(unit, halves, 1, config.merge_similarity))) == 1


def _laplacian_spectrum(centred: np.ndarray, config: ClusteringConfig) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of the normalised Laplacian of the pruned cosine affinity."""
    similarity = centred @ centred.T
    keep = max(2, int(np.ceil(config.prune_fraction * len(similarity))))
    neighbours = np.argsort(-similarity, axis=1)[:, :keep]
    affinity = np.zeros_like(similarity)
    rows = np.arange(len(similarity))[:, None]
    affinity[rows, neighbours] = np.maximum(similarity[rows, neighbours], 0.0)
    affinity = (affinity + affinity.T) / 2
    np.fill_diagonal(affinity, 0.0)
    degree = affinity.sum(axis=1) + 1e-9
    scale = 1.0 / np.sqrt(degree)
    laplacian = np.eye(len(affinity)) - scale[:, None] * affinity * scale[None, :]
    return eigh(laplacian)


def _eigengap_count(eigenvalues: np.ndarray, low: int, high: int) -> int:
    """The k in [low, high] after which the ascending eigenvalues jump the most."""
    gaps = np.diff(eigenvalues[: high + 1])  # gaps[k - 1] = λ_k − λ_{k−1}
    return low + int(np.argmax(gaps[low - 1 : high]))


def _merge_same_voice(unit: np.ndarray, labels: np.ndarray, low: int, threshold: float) -> np.ndarray:
    """Merge the most similar pair of clusters while their raw centroids look like one voice."""
    labels = labels.copy()
    while len(np.unique(labels)) > low:
        ids = np.unique(labels)
        centroids = _normalise(np.stack([unit[labels == i].mean(axis=0) for i in ids]))
        similarity = centroids @ centroids.T
        np.fill_diagonal(similarity, -1.0)
        a, b = np.unravel_index(np.argmax(similarity), similarity.shape)
        if similarity[a, b] < threshold:
            break
        labels[labels == ids[b]] = ids[a]
    return labels


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
