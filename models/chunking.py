"""Merge speech regions into chunks Whisper can take in one 30-s window."""

from __future__ import annotations

WINDOW_S = 30.0


def chunk_regions(regions: list[tuple[float, float]], max_s: float = WINDOW_S) -> list[tuple[float, float]]:
    """Greedily merge consecutive speech regions into chunks no longer than ``max_s``.

    Same semantics as whisperx's ``merge_chunks``: a chunk grows region by region (silence between
    regions is kept inside the chunk) until adding the next region would exceed ``max_s``. A single
    region longer than ``max_s`` is first cut into equal pieces, as whisperx's VAD binarisation
    does, so every chunk fits the model's window.
    """
    if max_s <= 0:
        raise ValueError("max_s must be positive")
    chunks: list[tuple[float, float]] = []
    pieces = [piece for region in sorted(regions) for piece in _split_long(region, max_s)]
    for start, end in pieces:
        if chunks and end - chunks[-1][0] <= max_s:
            chunks[-1] = (chunks[-1][0], end)
        else:
            chunks.append((start, end))
    return chunks


def _split_long(region: tuple[float, float], max_s: float) -> list[tuple[float, float]]:
    start, end = region
    if end <= start:
        return []
    count = int(-(-(end - start) // max_s))  # ceil without float surprises for exact multiples
    step = (end - start) / count
    return [(start + i * step, end if i == count - 1 else start + (i + 1) * step) for i in range(count)]
