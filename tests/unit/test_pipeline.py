"""The per-recording pipeline with fake remote stages: chunk offsets, stage order, speakers."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from models.engine import ChunkRequest, ChunkResult
from models.pipeline import DiarizeRequest, PipelineOptions, run_pipeline
from models.results import Segment, Transcript, Turn, Word
from tests.helpers.speech import write_wav

pytestmark = pytest.mark.unit
SR = 16_000


class FakeDetector:
    def __init__(self, regions):
        self._regions = regions

    def regions(self, audio, sample_rate):
        return self._regions


class FakeStages:
    """Answers each chunk with one word at 0.5 s into the chunk, named after the chunk's length."""

    def __init__(self):
        self.requests: list[ChunkRequest] = []
        self.detected = 0

    async def detect_language(self, audio):
        self.detected += 1
        return "de"

    async def transcribe(self, request: ChunkRequest) -> ChunkResult:
        self.requests.append(request)
        await asyncio.sleep(0)
        name = f"w{round(request.audio.size / SR)}"
        word = Word(name, 0.5, 0.9)
        return ChunkResult(request.language or "?", [Segment(0.5, 0.9, name, (word,))])

    def can_align(self, language):
        return False

    async def align(self, transcript: Transcript, audio) -> Transcript:
        raise AssertionError("not configured")

    async def diarize(self, request: DiarizeRequest) -> list[Turn]:
        assert request.num_speakers == 2
        return [Turn(0.0, 20.0, "SPEAKER_00"), Turn(20.0, 60.0, "SPEAKER_01")]


def run(tmp_path, regions, **options):
    path = write_wav(np.zeros(60 * SR, dtype=np.float32), tmp_path / "silence.wav")
    stages, reports = FakeStages(), []

    async def report(stage, progress, message, transcript, turns):
        reports.append((stage, progress))

    result = asyncio.run(
        run_pipeline(path, PipelineOptions(**options), stages, FakeDetector(regions), report)
    )
    return result, stages, reports


def test_chunks_are_shifted_back_onto_the_recording(tmp_path):
    result, stages, _ = run(tmp_path, [(1.0, 11.0), (40.0, 45.0)], language="en")
    assert [r.language for r in stages.requests] == ["en", "en"]
    assert stages.detected == 0
    assert [w.start for w in result.transcript.words] == [1.5, 40.5]
    assert result.transcript.duration == 60.0


def test_language_is_detected_once_per_recording(tmp_path):
    result, stages, _ = run(tmp_path, [(1.0, 11.0), (40.0, 45.0)])
    assert stages.detected == 1 and result.transcript.language == "de"


def test_stages_are_reported_in_the_old_order(tmp_path):
    _, _, reports = run(tmp_path, [(1.0, 11.0), (40.0, 45.0)], diarize=True, num_speakers=2)
    stages = [s for s, _ in reports]
    order = [
        "transcription_completed",
        "alignment_processing",
        "alignment_completed",
        "diarization_processing",
    ]
    assert [s for s in stages if s in order] == order
    progress = [p for _, p in reports]
    assert progress == sorted(progress)


def test_speakers_reach_every_word(tmp_path):
    result, _, _ = run(tmp_path, [(1.0, 11.0), (40.0, 45.0)], diarize=True, num_speakers=2)
    assert [w.speaker for w in result.transcript.words] == ["SPEAKER_00", "SPEAKER_01"]
    assert [s.speaker for s in result.transcript.segments] == ["SPEAKER_00", "SPEAKER_01"]


def test_no_speech_gives_an_empty_transcript(tmp_path):
    result, stages, _ = run(tmp_path, [])
    assert result.transcript.segments == [] and stages.requests == []
