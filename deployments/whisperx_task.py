"""One WhisperX task on a runner: fetch the upload, run the pipeline through the model
deployments, persist progress and results."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from deployments.results import ResultWriter
from models.diarization.errors import DiarizationUnavailable
from models.engine import ChunkRequest, ChunkResult
from models.errors import UnknownModel
from models.pipeline import DiarizeRequest, PipelineOptions, run_pipeline
from models.results import Transcript, Turn
from storage import TaskRecord, TaskStatus

if TYPE_CHECKING:
    from deployments.runner import TaskRunner


class HandleStages:
    """The pipeline's remote stages, reached through Serve deployment handles."""

    def __init__(self, transcriber: Any, diarizer: Any, aligner: Any, align_languages: set[str]):
        self.transcriber = transcriber
        self.diarizer = diarizer
        self.aligner = aligner
        self.align_languages = align_languages

    async def detect_language(self, audio: np.ndarray) -> str:
        return str(await self.transcriber.detect_language.remote(audio))

    async def transcribe(self, request: ChunkRequest) -> ChunkResult:
        return await self.transcriber.transcribe.remote(request)

    def can_align(self, language: str) -> bool:
        return self.aligner is not None and language in self.align_languages

    async def align(self, transcript: Transcript, audio: np.ndarray) -> Transcript:
        return await self.aligner.align.remote(transcript, audio)

    async def diarize(self, request: DiarizeRequest) -> list[Turn]:
        if self.diarizer is None:
            raise DiarizationUnavailable("Speaker diarization is not deployed in this application")
        return await self.diarizer.diarize.remote(request)


def pipeline_options(record: TaskRecord, runner: TaskRunner) -> PipelineOptions:
    opts = record.options
    return PipelineOptions(
        language=opts.get("language"),
        task=opts.get("task", "transcribe"),
        word_timestamps=bool(opts.get("word_timestamps", True)),
        diarize=bool(opts.get("diarize", False)),
        num_speakers=opts.get("num_speakers"),
        min_speakers=opts.get("min_speakers"),
        max_speakers=opts.get("max_speakers"),
        max_duration_s=runner.args.limits.max_audio_duration_s,
        chunk_concurrency=runner.args.runner.chunk_concurrency,
    )


async def run_whisperx_task(record: TaskRecord, runner: TaskRunner) -> None:
    task_id = record.task_id
    model = record.options.get("model") or runner.args.models.default_model
    if model not in runner.transcribers:
        raise UnknownModel(f"Unknown model {model!r}. Available models: {', '.join(runner.transcribers)}.")
    stages = HandleStages(
        runner.transcribers[model], runner.diarizer, runner.aligner, set(runner.args.models.align_models)
    )
    options = pipeline_options(record, runner)
    writer = ResultWriter(runner.store, task_id)

    async def report(stage: str, progress: int, message: str, transcript: Any, turns: Any) -> None:
        files = await writer.checkpoint(stage, transcript)
        await asyncio.to_thread(
            runner.tasks.transition,
            task_id,
            TaskStatus(stage),
            owner=runner.owner,
            progress=progress,
            message=message,
            available_files=files,
        )

    with tempfile.TemporaryDirectory(prefix="auralab-") as tmp:
        path = Path(tmp) / "input"
        await asyncio.to_thread(runner.store.download_file, record.upload_key, path)
        result = await run_pipeline(path, options, stages, runner.detector, report)
    files = await writer.final(result, options.word_timestamps, options.diarize)
    await asyncio.to_thread(
        runner.tasks.transition,
        task_id,
        TaskStatus.COMPLETED,
        owner=runner.owner,
        progress=100,
        message="Transcription completed successfully",
        available_files=files,
        language=result.transcript.language,
        duration_s=result.transcript.duration,
    )
