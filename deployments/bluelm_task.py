"""One BlueLM transcription task on a runner: vivo's long-speech flow (LASR), made durable.

The upload goes to vivo once: right after ``run`` the vivo job ids are written into the record
(``vendor_task_id`` and ``options["vivo_job"]``), so a runner that takes the task over after a crash
resumes polling that job instead of uploading again (and uploads again only if vivo no longer knows
the job). Transient vivo failures (rate limited, unreachable) are marked ``retryable`` so the runner
releases the task for another attempt; anything else fails it with the error's message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import tempfile
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deployments import metrics
from deployments.results import ResultWriter
from deployments.vivo_proxy import client_from_args
from models import writers
from models.results import Segment, Transcript
from storage import TaskRecord, TaskStatus
from vivo import (
    LasrJob,
    LasrSentence,
    VivoBadRequest,
    VivoClient,
    VivoRateLimited,
    VivoUnavailable,
    VivoUpstreamError,
)

if TYPE_CHECKING:
    from deployments.runner import TaskRunner

logger = logging.getLogger("ray.serve")

POLL_INTERVAL_S = 1.0
LANGUAGE = "zh"
# Progress bands of the record: upload to vivo, then vivo's own 0-100 scaled into the rest.
_UPLOADED = 10
_VIVO_SPAN = 85
_CLIENTS: weakref.WeakKeyDictionary[Any, VivoClient] = weakref.WeakKeyDictionary()


def vivo_client(runner: TaskRunner) -> VivoClient:
    """The runner replica's one vivo client, created on first use (inside the replica's loop)."""
    client = _CLIENTS.get(runner)
    if client is None:
        client = _CLIENTS[runner] = client_from_args(runner.args.vivo)
    return client


async def close_vivo_client(runner: TaskRunner) -> None:
    """Close the runner replica's vivo client, if it made one (on replica shutdown)."""
    client = _CLIENTS.pop(runner, None)
    if client is not None:
        await client.aclose()


async def run_bluelm_task(record: TaskRecord, runner: TaskRunner) -> None:
    client = vivo_client(runner)
    try:
        sentences = await _transcribe(record, runner, client)
    except (VivoRateLimited, VivoUnavailable) as exc:
        exc.retryable = True  # type: ignore[attr-defined]  # read by the runner's failure handler
        metrics.count(metrics.VIVO_ERRORS, capability="lasr", code=exc.code)
        raise
    except Exception as exc:
        metrics.count(metrics.VIVO_ERRORS, capability="lasr", code=getattr(exc, "code", "internal_error"))
        raise
    await _finish(record, runner, sentences)


async def _transcribe(record: TaskRecord, runner: TaskRunner, client: VivoClient) -> list[LasrSentence]:
    started = time.perf_counter()
    job = stored_job(record)
    if job is not None:
        logger.info("task %s: resuming vivo job %s", record.task_id, job.task_id)
        try:
            return await _wait(record, runner, client, job)
        except (VivoBadRequest, VivoUpstreamError) as exc:  # vivo forgot the job: start over
            logger.warning(
                "task %s: vivo job %s cannot be resumed (%s)", record.task_id, job.task_id, exc.code
            )
    job = await _upload(record, runner, client)
    sentences = await _wait(record, runner, client, job)
    metrics.observe(metrics.VIVO_LATENCY, time.perf_counter() - started, capability="lasr")
    return sentences


def stored_job(record: TaskRecord) -> LasrJob | None:
    """The vivo job a previous attempt submitted, if it got that far."""
    saved = record.options.get("vivo_job")
    if not isinstance(saved, dict) or not record.vendor_task_id:
        return None
    try:
        return LasrJob(**saved)
    except TypeError:
        return None


async def _upload(record: TaskRecord, runner: TaskRunner, client: VivoClient) -> LasrJob:
    await _report(record, runner, TaskStatus.PROCESSING, 2, "Uploading audio to BlueLM")
    with tempfile.TemporaryDirectory(prefix="auralab-bluelm-") as tmp:
        path = Path(tmp) / "input"
        await asyncio.to_thread(runner.store.download_file, record.upload_key, path)
        job = await client.lasr_start(path)
    options = {**record.options, "vivo_job": dataclasses.asdict(job)}
    await _report(
        record,
        runner,
        TaskStatus.TRANSCRIPTION_PROCESSING,
        _UPLOADED,
        "Transcription started at BlueLM",
        vendor_task_id=job.task_id,
        options=options,
    )
    return job


async def _wait(
    record: TaskRecord, runner: TaskRunner, client: VivoClient, job: LasrJob
) -> list[LasrSentence]:
    async def on_progress(percent: int) -> None:
        progress = _UPLOADED + percent * _VIVO_SPAN // 100
        await _report(record, runner, TaskStatus.TRANSCRIPTION_PROCESSING, progress, f"Progress: {percent}%")

    return await client.lasr_wait(job, on_progress=on_progress, poll_interval_s=POLL_INTERVAL_S)


async def _report(
    record: TaskRecord, runner: TaskRunner, status: TaskStatus, progress: int, message: str, **changes: Any
) -> None:
    await asyncio.to_thread(
        runner.tasks.transition,
        record.task_id,
        status,
        owner=runner.owner,
        progress=progress,
        message=message,
        **changes,
    )


def transcript_of(sentences: list[LasrSentence]) -> Transcript:
    """vivo's sentences (milliseconds) as our transcript (seconds), speakers as ``SPEAKER_nn``."""
    segments = [
        Segment(
            start=s.bg / 1000,
            end=s.ed / 1000,
            text=s.onebest.strip(),
            speaker=None if s.speaker is None else f"SPEAKER_{s.speaker:02d}",
        )
        for s in sentences
    ]
    duration = max((s.ed for s in sentences), default=0) / 1000
    return Transcript(language=LANGUAGE, segments=segments, duration=duration)


def old_result(sentences: list[LasrSentence]) -> list[dict[str, Any]]:
    """The old gateway's ``transcription_<id>.json`` items, with vivo's speaker kept."""
    return [{"ed": s.ed, "onebest": s.onebest, "bg": s.bg, "speaker": s.speaker} for s in sentences]


async def _finish(record: TaskRecord, runner: TaskRunner, sentences: list[LasrSentence]) -> None:
    writer = ResultWriter(runner.store, record.task_id)
    transcript = transcript_of(sentences)
    await writer.put("bluelm", old_result(sentences))
    await writer.put("transcription", writers.transcription_json(transcript))
    if any(s.speaker is not None for s in transcript.segments):
        await writer.put("speaker_segments", writers.speaker_segments_json(transcript))
    for name, render in (("srt", writers.srt), ("vtt", writers.vtt), ("txt", writers.txt)):
        await writer.put(name, render(transcript))
    await _report(
        record,
        runner,
        TaskStatus.COMPLETED,
        100,
        "Transcription completed successfully",
        available_files=list(writer.available),
        language=transcript.language,
        duration_s=transcript.duration,
    )
