"""BlueLM long-speech transcription as a durable task, in the old Go gateway's shapes.

The upload is probed as audio and stored, a ``bluelm`` task record is written and the ``task_id``
comes back at once; a task runner drives vivo's five-step flow (``deployments.bluelm_task``). The
old gateway ran the vivo upload inside the request and kept tasks in memory; here they survive
restarts. The caller's ``app_id``/``app_key`` form fields are not used for transcription: a key
would have to be stored with the task, so the server's APPID/APPKEY sign these calls.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from deployments.context import GatewayContext, get_context
from deployments.errors import BadRequest, NotFound, ResultNotReady
from deployments.results import result_key
from deployments.tasks_api import create_task, get_record, parse_status, receive_audio
from deployments.uploads import multipart_openapi
from deployments.vivo_schemas import BlueLMTaskInfo
from storage import ObjectNotFound, TaskNotFound, TaskRecord, TaskStatus

router = APIRouter(tags=["bluelm"])
ENGINE = "bluelm"
ACTIONS = ("submit", "status", "download", "list")


def _time(epoch: float | None) -> str | None:
    """RFC 3339 with the local offset, like the Go gateway's ``time.Time``."""
    return None if epoch is None else datetime.fromtimestamp(epoch).astimezone().isoformat()


def task_info(record: TaskRecord) -> dict[str, Any]:
    failed = record.status is TaskStatus.FAILED
    info = BlueLMTaskInfo(
        task_id=record.task_id,
        status=record.status.value,
        message=record.message,
        created_at=_time(record.created_at) or "",
        filename=record.filename,
        progress=record.progress,
        updated_at=_time(record.updated_at),
        error=record.error if failed else None,
        error_code=record.error_code if failed else None,
    )
    return info.model_dump(exclude_none=True)


async def _record(ctx: GatewayContext, task_id: str) -> TaskRecord:
    try:
        return await get_record(ctx, task_id, ENGINE)
    except TaskNotFound:
        raise NotFound(f"Task not found: {task_id}") from None


async def submit(request: Request, ctx: GatewayContext) -> dict[str, str]:
    form = await receive_audio(request, ctx)
    record = await create_task(ctx, form, ENGINE, {})
    return {"task_id": record.task_id}


async def download(ctx: GatewayContext, task_id: str) -> Response:
    """``transcription_<id>.json``: the old array of ``{ed, onebest, bg}`` (plus ``speaker``)."""
    record = await _record(ctx, task_id)
    if record.status is not TaskStatus.COMPLETED:
        raise ResultNotReady(f"Task is not completed yet (status: {record.status.value})")
    if "bluelm" not in record.available_files:
        raise NotFound(f"Result file not found for task {task_id}")
    try:
        data, _ = await ctx.io(ctx.store.get, result_key(task_id, "bluelm"))
    except ObjectNotFound:
        raise NotFound(f"Result file not found for task {task_id}") from None
    headers = {
        "Content-Description": "File Transfer",
        "Content-Transfer-Encoding": "binary",
        "Content-Disposition": f"attachment; filename=transcription_{task_id}.json",
    }
    return Response(data, media_type="application/json", headers=headers)


async def list_tasks(ctx: GatewayContext, status: str | None, limit: int = 50) -> dict[str, Any]:
    records = await ctx.io(ctx.tasks.newest, parse_status(status), limit, ENGINE)
    return {"tasks": [task_info(r) for r in records], "total": len(records)}


@router.post("/bluelm/transcription", openapi_extra=multipart_openapi())
async def transcription(request: Request, ctx: GatewayContext = Depends(get_context)) -> dict[str, str]:
    """Upload audio (multipart field ``file``) for BlueLM transcription; answers ``{"task_id"}``."""
    return await submit(request, ctx)


@router.get("/bluelm/transcription/status/{task_id}")
async def transcription_status(task_id: str, ctx: GatewayContext = Depends(get_context)) -> dict[str, Any]:
    return task_info(await _record(ctx, task_id))


@router.get("/bluelm/transcription/download/{task_id}", response_class=Response)
async def transcription_download(task_id: str, ctx: GatewayContext = Depends(get_context)) -> Response:
    return await download(ctx, task_id)


@router.get("/bluelm/transcription/tasks")
async def transcription_tasks(
    status: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    ctx: GatewayContext = Depends(get_context),
) -> dict[str, Any]:
    """Newest first; ``?status=`` filters (case-insensitive), ``?limit=`` caps (default 50)."""
    return await list_tasks(ctx, status, limit)


async def bluelm_model_action(action: str, request: Request, ctx: GatewayContext) -> Any:
    """``/model?model=bluelm&action=submit|status|download|list`` (the old unified route)."""
    if action not in ACTIONS:
        raise BadRequest(f"Unsupported action for BlueLM. Supported actions: {', '.join(ACTIONS)}")
    params = request.query_params
    if action == "submit":
        return await submit(request, ctx)
    if action == "list":
        return await list_tasks(ctx, params.get("status"))
    task_id = params.get("task_id", "").strip()
    if not task_id:
        raise BadRequest("task_id parameter is required")
    if action == "status":
        return task_info(await _record(ctx, task_id))
    return await download(ctx, task_id)
