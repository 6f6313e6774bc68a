"""``/model``: the unified route the AuraLab app calls, ``?model=whisperx|bluelm&action=...``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from deployments import routes_whisperx as whisperx
from deployments.context import GatewayContext, get_context
from deployments.errors import BadRequest
from deployments.tasks_api import get_record

router = APIRouter(tags=["unified"])
WHISPERX_ACTIONS = ("submit", "status", "download", "list", "models")


@router.get("/model", operation_id="model_get")
@router.post("/model", operation_id="model_post")
async def model_route(request: Request, ctx: GatewayContext = Depends(get_context)) -> Any:
    params = request.query_params
    model = params.get("model", "").strip().lower()
    action = params.get("action", "").strip().lower()
    if not model:
        raise BadRequest("Model parameter is required (whisperx or bluelm)")
    if not action:
        raise BadRequest("Action parameter is required (submit, status, download, list)")
    if model == "whisperx":
        return await _whisperx(action, request, ctx)
    if model == "bluelm":
        from deployments.routes_bluelm import bluelm_model_action

        return await bluelm_model_action(action, request, ctx)
    raise BadRequest("Unsupported model. Supported models: whisperx, bluelm")


async def _whisperx(action: str, request: Request, ctx: GatewayContext) -> Any:
    params = request.query_params
    if action not in WHISPERX_ACTIONS:
        raise BadRequest(f"Unsupported action for WhisperX. Supported actions: {', '.join(WHISPERX_ACTIONS)}")
    if action == "submit":
        record = await whisperx.submit(request, ctx)
        return {"task_id": record.task_id}
    if action == "models":
        return await whisperx.list_models(ctx)
    if action == "list":
        return await whisperx.list_tasks(params.get("status"), _limit(params.get("limit")), ctx)
    task_id = params.get("task_id", "").strip()
    if not task_id:
        raise BadRequest("task_id parameter is required")
    record = await get_record(ctx, task_id, whisperx.ENGINE)
    if action == "status":
        return await whisperx.status_body(ctx, record)
    file_name = params.get("file_name", "").strip()
    if not file_name:
        raise BadRequest("file_name parameter is required (transcription, wordstamps, diarization, speaker)")
    response: Response = await whisperx.download_response(ctx, record, file_name)
    return response


def _limit(value: str | None) -> int:
    if not value:
        return 50
    if not value.isdigit() or not 1 <= int(value) <= 500:
        raise BadRequest("limit must be a whole number from 1 to 500")
    return int(value)
