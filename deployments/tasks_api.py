"""Creating and reading tasks on behalf of the HTTP routes (both engines share this)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any

from fastapi import Request

from deployments.config import LimitsArgs
from deployments.context import GatewayContext
from deployments.errors import BadRequest, NotFound, ResultNotReady
from deployments.results import ALIASES, RESULT_FILES, result_key
from deployments.security import upload_slot
from deployments.uploads import ReceivedForm, UploadTimeout, receive_multipart
from models.audio import MediaInfo, probe
from models.errors import EmptyMedia, InvalidMedia, MediaTooLong
from storage import StorageError, TaskRecord, TaskStatus, keys

logger = logging.getLogger("ray.serve")


async def receive_audio(request: Request, ctx: GatewayContext) -> ReceivedForm:
    """The multipart upload, checked to really be audio/video of acceptable length and shape.

    The replica receives a bounded number of uploads at once (503 past it) and each must arrive
    within ``limits.upload_timeout_s`` (408), so slow senders cannot hold the gateway.
    """
    limits = ctx.args.limits
    with upload_slot(request):
        try:
            async with asyncio.timeout(limits.upload_timeout_s):
                form = await receive_multipart(request, limits.max_upload_bytes)
        except TimeoutError:
            raise UploadTimeout(f"The upload took longer than {limits.upload_timeout_s:g} s") from None
    try:
        if form.file_path is None:
            raise BadRequest("No file provided: send it in the multipart field 'file'")
        if form.size == 0:
            raise EmptyMedia("The uploaded file is empty")
        await asyncio.to_thread(refuse_indirect_media, form.file_path)
        info = await asyncio.to_thread(probe, form.file_path)
        check_media_limits(info, limits)
    except BaseException:
        form.cleanup()
        raise
    return form


# Text formats ffmpeg would follow to other files or URLs (playlists, concat scripts, SDP):
# never media in their own right, so they are refused before ffprobe opens them.
_INDIRECT_MAGIC = (b"#EXTM3U", b"#EXTINF", b"ffconcat", b"[playlist]", b"<?xml", b"v=0", b";FFMETADATA")


def refuse_indirect_media(path: Path) -> None:
    with open(path, "rb") as handle:
        head = handle.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.lower().startswith(tuple(m.lower() for m in _INDIRECT_MAGIC)):
        raise InvalidMedia("Playlists and media references are not accepted; upload the audio itself.")


def check_media_limits(info: MediaInfo, limits: LimitsArgs) -> None:
    """Limits on what decoding will cost: duration, channels, sample rate (so, sample count)."""
    if info.duration_s and info.duration_s > limits.max_audio_duration_s:
        raise MediaTooLong(f"The audio is longer than the {limits.max_audio_duration_s:g} s limit.")
    if info.channels > limits.max_channels:
        raise InvalidMedia(
            f"The audio has {info.channels} channels; at most {limits.max_channels} are accepted."
        )
    if info.sample_rate > limits.max_sample_rate_hz:
        raise InvalidMedia(f"The audio's sample rate is above {limits.max_sample_rate_hz} Hz.")


async def create_task(
    ctx: GatewayContext, form: ReceivedForm, engine: str, options: dict[str, Any]
) -> TaskRecord:
    """Store the upload and its record, then wake a runner. Either both land or neither does."""
    assert form.file_path is not None
    task_id = keys.new_task_id()
    filename = keys.safe_filename(form.filename)
    upload_key = keys.upload_key(task_id, filename)
    record = TaskRecord(
        task_id=task_id,
        engine=engine,  # type: ignore[arg-type]
        filename=filename,
        upload_key=upload_key,
        upload_size=form.size,
        options=options,
    )
    try:
        await ctx.io(ctx.store.upload_file, form.file_path, upload_key, content_type=form.file_content_type)
        try:
            await ctx.io(ctx.tasks.create, record)
        except StorageError:
            with contextlib.suppress(Exception):
                await ctx.io(ctx.store.delete, upload_key)
            raise
    finally:
        form.cleanup()
    await poke_runner(ctx)
    logger.info("task %s created (%s, %d bytes)", task_id, engine, form.size)
    return record


async def poke_runner(ctx: GatewayContext) -> None:
    """Best effort: runners also find new tasks on their own periodic scan."""
    if ctx.runner is None:
        return
    try:
        await asyncio.wait_for(ctx.runner.poke.remote(), timeout=2.0)
    except Exception as exc:
        logger.info("runner poke failed (%s); the periodic scan will pick the task up", type(exc).__name__)


async def get_record(ctx: GatewayContext, task_id: str, engine: str | None = None) -> TaskRecord:
    keys.validate_task_id(task_id)
    record = await ctx.io(ctx.tasks.get, task_id)
    if engine is not None and record.engine != engine:
        raise NotFound(f"Task {task_id} not found")
    return record


def parse_status(value: str | None) -> TaskStatus | None:
    if not value:
        return None
    try:
        return TaskStatus(value.strip().lower())
    except ValueError:
        raise BadRequest(
            f"Unknown status {value!r}. Use one of: {', '.join(s.value for s in TaskStatus)}"
        ) from None


def resolve_file_type(record: TaskRecord, file_type: str) -> str:
    name = ALIASES.get(file_type, file_type)
    if name not in RESULT_FILES:
        valid = ", ".join([*RESULT_FILES, *ALIASES])
        raise BadRequest(f"Invalid file type {file_type!r}. Valid types: {valid}")
    if name not in record.available_files:
        available = ", ".join(record.available_files) or "none"
        raise ResultNotReady(f"File not available yet. Available files: {available}")
    return name


async def read_json_result(ctx: GatewayContext, task_id: str, name: str) -> Any:
    data, _ = await ctx.io(ctx.store.get, result_key(task_id, name))
    return json.loads(data)
