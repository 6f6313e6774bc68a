"""One recording through the WhisperX stages, independent of Ray.

decode → VAD → ≤30-s chunks → transcribe (chunks concurrently, so a batching transcriber can serve
them together with other callers' chunks) → optional wav2vec2 alignment → optional diarization.
The stages that run elsewhere (the batched transcriber, the aligner, the diarizer) are injected as
:class:`Stages`; progress goes out through a callback so the caller can persist it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from models.audio import decode
from models.chunking import chunk_regions
from models.engine import ChunkRequest, ChunkResult
from models.results import Segment, Transcript, Turn
from models.vad import SpeechDetector

SAMPLE_RATE = 16_000
LANGUAGE_PROBE_S = 30.0


@dataclass(frozen=True)
class PipelineOptions:
    language: str | None = None
    task: str = "transcribe"
    word_timestamps: bool = True
    diarize: bool = False
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    max_duration_s: float | None = None
    chunk_concurrency: int = 16


@dataclass(frozen=True)
class DiarizeRequest:
    audio: np.ndarray
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None


class Stages(Protocol):
    async def detect_language(self, audio: np.ndarray) -> str: ...
    async def transcribe(self, request: ChunkRequest) -> ChunkResult: ...
    def can_align(self, language: str) -> bool: ...
    async def align(self, transcript: Transcript, audio: np.ndarray) -> Transcript: ...
    async def diarize(self, request: DiarizeRequest) -> list[Turn]: ...


# (stage, progress 0-100, message, transcript so far, speaker turns so far)
Report = Callable[[str, int, str, Transcript | None, list[Turn] | None], Awaitable[None]]


@dataclass
class PipelineResult:
    transcript: Transcript
    turns: list[Turn] = field(default_factory=list)
    aligned: bool = False


async def run_pipeline(
    path: Path, options: PipelineOptions, stages: Stages, detector: SpeechDetector, report: Report
) -> PipelineResult:
    audio = await asyncio.to_thread(decode, path, SAMPLE_RATE, options.max_duration_s)
    await report("transcription_processing", 5, "Detecting speech", None, None)
    regions = await asyncio.to_thread(detector.regions, audio, SAMPLE_RATE)
    chunks = chunk_regions(regions, max_s=30.0)
    language = options.language or await _language(audio, chunks, stages)
    segments = await _transcribe_chunks(audio, chunks, language, options, stages, report)
    transcript = Transcript(language=language, segments=segments, duration=round(len(audio) / SAMPLE_RATE, 3))
    await report("transcription_completed", 70, "Transcription completed", transcript, None)
    result = PipelineResult(transcript)
    if options.word_timestamps:
        await report("alignment_processing", 75, "Aligning words", transcript, None)
        if segments and stages.can_align(language):
            result.transcript = await stages.align(transcript, audio)
            result.aligned = True
        await report("alignment_completed", 85, "Word timestamps ready", result.transcript, None)
    if options.diarize:
        await _diarize(audio, options, stages, report, result)
    return result


async def _language(audio: np.ndarray, chunks: list[tuple[float, float]], stages: Stages) -> str:
    """Detect once per recording, on the first 30 s of speech (whisperx does the same)."""
    start = chunks[0][0] if chunks else 0.0
    probe = audio[int(start * SAMPLE_RATE) : int((start + LANGUAGE_PROBE_S) * SAMPLE_RATE)]
    return await stages.detect_language(probe) if probe.size else "en"


async def _transcribe_chunks(
    audio: np.ndarray,
    chunks: list[tuple[float, float]],
    language: str,
    options: PipelineOptions,
    stages: Stages,
    report: Report,
) -> list[Segment]:
    gate = asyncio.Semaphore(options.chunk_concurrency)
    # One progress report at a time: concurrent ones would race on the stored record, and a slower
    # earlier write could land last and move the progress back.
    reporting = asyncio.Lock()
    done = 0

    async def one(start: float, end: float) -> list[Segment]:
        nonlocal done
        request = ChunkRequest(
            audio=audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)],
            language=language,
            task=options.task,
            word_timestamps=options.word_timestamps,
        )
        async with gate:
            result = await stages.transcribe(request)
        async with reporting:
            done += 1
            progress = 10 + int(60 * done / len(chunks))
            message = f"Transcribed {done}/{len(chunks)} chunks"
            await report("transcription_processing", progress, message, None, None)
        return [segment.shifted(start) for segment in result.segments]

    per_chunk = await asyncio.gather(*(one(s, e) for s, e in chunks))
    return [segment for segments in per_chunk for segment in segments]


async def _diarize(
    audio: np.ndarray, options: PipelineOptions, stages: Stages, report: Report, result: PipelineResult
) -> None:
    from models.diarization.assign import assign_speakers

    await report("diarization_processing", 90, "Separating speakers", result.transcript, None)
    request = DiarizeRequest(audio, options.num_speakers, options.min_speakers, options.max_speakers)
    result.turns = await stages.diarize(request)
    if result.turns:
        result.transcript.segments = assign_speakers(result.transcript.segments, result.turns)
