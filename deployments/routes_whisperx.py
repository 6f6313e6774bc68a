"""WhisperX routes: the old Flask service's API, compatible shapes, plus downloads in more formats."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from deployments.context import GatewayContext, get_context
from deployments.errors import BadRequest, ResultNotReady
from deployments.results import RESULT_FILES, result_key
from deployments.tasks_api import (
    create_task,
    get_record,
    parse_status,
    read_json_result,
    receive_audio,
    resolve_file_type,
)
from deployments.uploads import multipart_openapi
from models.catalog import CATALOG, get_spec
from storage import TaskRecord, TaskStatus

router = APIRouter(tags=["whisperx"])
ENGINE = "whisperx"
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_TASKS = ("transcribe", "translate")


def _bool(fields: dict[str, str], name: str, default: bool) -> bool:
    value = fields.get(name, "").strip().lower()
    if not value:
        return default
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise BadRequest(f"{name} must be true or false, not {value[:20]!r}")


def _int(fields: dict[str, str], name: str, low: int = 1, high: int = 20) -> int | None:
    value = fields.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or not low <= int(value) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    return int(value)


def _language(fields: dict[str, str]) -> str | None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    value = fields.get("language", "").strip().lower()
    if not value or value == "auto":
        return None
    if value not in _LANGUAGE_CODES:
        raise BadRequest(f"Unsupported language {value!r}; use a Whisper language code such as en, zh, de")
    return value


def whisperx_options(fields: dict[str, str], ctx: GatewayContext) -> dict[str, Any]:
    """The task options from the old form fields (plus the speaker-count hints)."""
    served = ctx.args.models.names
    model = fields.get("model_name", "").strip() or ctx.args.models.default_model
    get_spec(model, served)  # unknown → 400 listing the served models, never a silent fallback
    task = fields.get("task", "transcribe").strip() or "transcribe"
    if task not in _TASKS:
        raise BadRequest("task must be transcribe or translate")
    options = {
        "model": model,
        "language": _language(fields),
        "task": task,
        "word_timestamps": _bool(fields, "enable_word_timestamps", True),
        "diarize": _bool(fields, "enable_speaker_diarization", False),
        "num_speakers": _int(fields, "num_speakers"),
        "min_speakers": _int(fields, "min_speakers"),
        "max_speakers": _int(fields, "max_speakers"),
    }
    low, high = options["min_speakers"], options["max_speakers"]
    if low is not None and high is not None and low > high:
        raise BadRequest("min_speakers must not exceed max_speakers")
    return options


async def submit(request: Request, ctx: GatewayContext) -> TaskRecord:
    form = await receive_audio(request, ctx)
    try:
        options = whisperx_options(form.fields, ctx)
    except BaseException:
        form.cleanup()
        raise
    return await create_task(ctx, form, ENGINE, options)


WHISPERX_FORM = multipart_openapi(
    enable_word_timestamps="true (default) or false",
    enable_speaker_diarization="true or false (default)",
    model_name="a served model (default: the first one)",
    language="a Whisper language code; detected when absent",
    task="transcribe (default) or translate",
    num_speakers="exact speaker count, 1-20",
    min_speakers="lower bound for the speaker count",
    max_speakers="upper bound for the speaker count",
    compute_type="accepted for compatibility; set per deployment",
)


@router.post("/whisperx/process", openapi_extra=WHISPERX_FORM)
async def process(request: Request, ctx: GatewayContext = Depends(get_context)) -> dict[str, Any]:
    """Upload audio/video (multipart field ``file``) and start a transcription task."""
    record = await submit(request, ctx)
    return {
        "success": True,
        "message": "File uploaded successfully, processing started",
        "task_id": record.task_id,
        "filename": record.filename,
    }


@router.post("/whisperx", openapi_extra=WHISPERX_FORM)
async def process_legacy(request: Request, ctx: GatewayContext = Depends(get_context)) -> dict[str, str]:
    """The old Go gateway's submit route: answers only the task id."""
    record = await submit(request, ctx)
    return {"task_id": record.task_id}


async def status_body(ctx: GatewayContext, record: TaskRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "success": True,
        "task_id": record.task_id,
        "status": record.status.value,
        "message": record.message,
        "progress": record.progress,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "filename": record.filename,
        "model": record.options.get("model"),
        "language": record.language,
        "duration": record.duration_s,
        "available_files": record.available_files,
    }
    for name in ("transcription", "wordstamps", "speaker_segments"):
        if name in record.available_files:
            body[name] = await read_json_result(ctx, record.task_id, name)
    if record.status is TaskStatus.FAILED:
        body["error"] = record.error
        body["error_code"] = record.error_code
    return body


@router.get("/whisperx/status/{task_id}")
async def status(task_id: str, ctx: GatewayContext = Depends(get_context)) -> dict[str, Any]:
    return await status_body(ctx, await get_record(ctx, task_id, ENGINE))


def task_summary(record: TaskRecord) -> dict[str, Any]:
    return {
        "task_id": record.task_id,
        "status": record.status.value,
        "message": record.message,
        "progress": record.progress,
        "created_at": record.created_at,
        "filename": record.filename,
    }


@router.get("/whisperx/tasks")
async def list_tasks(
    status: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    ctx: GatewayContext = Depends(get_context),
) -> dict[str, Any]:
    """Newest first; ``?status=`` filters, ``?limit=`` caps."""
    records = await ctx.io(ctx.tasks.newest, parse_status(status), limit, ENGINE)
    return {"success": True, "tasks": [task_summary(r) for r in records], "total": len(records)}


async def download_response(ctx: GatewayContext, record: TaskRecord, file_type: str) -> Response:
    """A result file as an attachment (result documents are small: read whole, sent whole)."""
    name = resolve_file_type(record, file_type)
    spec = RESULT_FILES[name]
    data, _ = await ctx.io(ctx.store.get, result_key(record.task_id, name))
    disposition = f'attachment; filename="{record.task_id}_{spec.file_name}"'
    return Response(data, media_type=spec.media_type, headers={"Content-Disposition": disposition})


@router.get("/whisperx/download/{task_id}/{file_type}")
async def download(task_id: str, file_type: str, ctx: GatewayContext = Depends(get_context)) -> Response:
    """transcription, wordstamps, diarization, speaker_segments (alias speaker), srt, vtt, txt, tsv, rttm."""
    return await download_response(ctx, await get_record(ctx, task_id, ENGINE), file_type)


@router.get("/whisperx/result/{task_id}")
async def result(task_id: str, ctx: GatewayContext = Depends(get_context)) -> dict[str, Any]:
    """Everything a completed task produced, in one JSON document."""
    record = await get_record(ctx, task_id, ENGINE)
    if record.status is TaskStatus.FAILED:
        raise ResultNotReady(f"Task failed: {record.error or 'unknown reason'}")
    if record.status is not TaskStatus.COMPLETED:
        raise ResultNotReady(f"Task is not completed yet (status: {record.status.value})")
    documents = {}
    for name in ("transcription", "wordstamps", "speaker_segments", "diarization"):
        if name in record.available_files:
            documents[name] = await read_json_result(ctx, task_id, name)
    return {"success": True, "task_id": task_id, "status": record.status.value, "result": documents}


@router.get("/whisperx/models")
async def list_models(ctx: GatewayContext = Depends(get_context)) -> dict[str, Any]:
    served = {m.model: m for m in ctx.args.models.served}
    supported = {
        name: {
            "name": name,
            "description": spec.description,
            "parameters": spec.parameters,
            "english_only": spec.english_only,
            "device": served[name].device,
            "compute_type": served[name].compute_type,
        }
        for name, spec in CATALOG.items()
        if name in served
    }
    default = ctx.args.models.default_model
    return {
        "success": True,
        "message": "Models retrieved successfully",
        "data": {
            "supported_models": supported,
            "default_model": default,
            "device": served[default].device,
            "compute_type": served[default].compute_type,
            "catalog": list(CATALOG),
        },
    }


@router.delete("/whisperx/tasks/{task_id}")
async def delete_task(task_id: str, ctx: GatewayContext = Depends(get_context)) -> dict[str, Any]:
    """Remove a task with its upload and results."""
    await get_record(ctx, task_id, ENGINE)
    await ctx.io(ctx.tasks.delete, task_id)
    return {"success": True, "message": "Task deleted", "task_id": task_id}
