"""VAD regions → ≤30-s chunks (whisperx merge_chunks semantics)."""

from __future__ import annotations

import pytest

from models.chunking import chunk_regions

pytestmark = pytest.mark.unit


def test_regions_merge_until_the_limit():
    regions = [(0.0, 10.0), (12.0, 20.0), (21.0, 29.5), (31.0, 40.0)]
    assert chunk_regions(regions, max_s=30.0) == [(0.0, 29.5), (31.0, 40.0)]


def test_long_region_is_cut_into_equal_pieces():
    chunks = chunk_regions([(5.0, 75.0)], max_s=30.0)
    assert len(chunks) == 3
    assert chunks[0][0] == 5.0 and chunks[-1][1] == 75.0
    assert all(end - start <= 30.0 + 1e-9 for start, end in chunks)


def test_every_chunk_fits_and_covers_all_speech():
    regions = [(float(i), i + 0.8) for i in range(0, 100, 2)]
    chunks = chunk_regions(regions)
    assert all(end - start <= 30.0 for start, end in chunks)
    for start, end in regions:
        assert any(cs <= start and end <= ce for cs, ce in chunks)


def test_empty_and_degenerate_regions():
    assert chunk_regions([]) == []
    assert chunk_regions([(3.0, 3.0)]) == []
    with pytest.raises(ValueError):
        chunk_regions([(0.0, 1.0)], max_s=0)
