"""Emulated BlueLM chat: ``/vivogpt/completions`` (sync) and ``/stream`` (SSE), text and vision.

Replies are deterministic so tests can assert on content: a text model answers ``echo: <last user
text>``; a vision model describes the image it decoded (format, byte count, PNG size) and repeats
the question. Any text containing ``FORBIDDEN`` is refused as vivo's moderation would (1007).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import struct
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from tests.emulator.calls import Call, begin
from tests.emulator.state import EmulatorState

TEXT_MODELS = {"vivo-BlueLM-TB-Pro", "vivo-BlueLM-TB"}
VISION_MODELS = {"vivo-BlueLM-V-2.0", "BlueLM-Vision-prd"}
MODERATION_TEXT = "抱歉，当前输入的内容我无法处理。如有需要，请尝试发送其他内容，我会尽力提供帮助。"
FORBIDDEN_WORD = "FORBIDDEN"


class ChatRefusal(Exception):
    """A business error answered as ``{"code", "data": {}, "msg"}``."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def _error(code: int, msg: str) -> JSONResponse:
    return JSONResponse({"code": code, "data": {}, "msg": msg})


def describe_image(data_url: str) -> str:
    """Decode a ``data:image/...;base64,`` URL and describe what arrived."""
    head, _, payload = data_url.partition(",")
    if not head.lower().startswith("data:image/") or not head.endswith(";base64") or not payload:
        raise ChatRefusal(1001, "image content must be a data:image/...;base64, URL")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ChatRefusal(1001, "image content is not valid base64") from None
    if raw.startswith(b"\x89PNG\r\n\x1a\n") and len(raw) >= 24:
        width, height = struct.unpack(">II", raw[16:24])
        return f"a PNG image {width}x{height} ({len(raw)} bytes)"
    if raw.startswith(b"\xff\xd8"):
        return f"a JPEG image ({len(raw)} bytes)"
    return f"an image of {len(raw)} bytes"


def reply_for(body: Any, query: dict[str, str]) -> str:
    """The deterministic reply to a chat body, or raise ChatRefusal like vivo would."""
    if not query.get("requestId"):
        raise ChatRefusal(1001, "param 'requestId' can't be empty")
    if not isinstance(body, dict):
        raise ChatRefusal(1001, "body must be a JSON object")
    model = body.get("model")
    if model not in TEXT_MODELS | VISION_MODELS:
        raise ChatRefusal(30001, "no model access permission")
    if not body.get("sessionId"):
        raise ChatRefusal(1001, "param 'sessionId' can't be empty")
    messages = body.get("messages") or []
    prompt = body.get("prompt")
    if not messages and not prompt:
        raise ChatRefusal(1001, "param 'messages' or 'prompt' is required")
    if model in VISION_MODELS:
        return _vision_reply(messages)
    if any(m.get("contentType") == "image" for m in messages):
        raise ChatRefusal(1001, f"model {model} does not accept images")
    user_texts = [m.get("content", "") for m in messages if m.get("role") == "user"]
    text = user_texts[-1] if user_texts else str(prompt)
    if FORBIDDEN_WORD in text:
        raise ChatRefusal(1007, MODERATION_TEXT)
    return f"echo: {text}"


def _vision_reply(messages: list[dict[str, Any]]) -> str:
    images = [m for m in messages if m.get("contentType") == "image"]
    questions = [m.get("content", "") for m in messages if m.get("contentType", "text") == "text"]
    if not images:
        raise ChatRefusal(1001, "vision models need a message with contentType image")
    seen = describe_image(str(images[-1].get("content", "")))
    question = questions[-1] if questions else ""
    return f"I see {seen}. You asked: {question}"


def build_router(state: EmulatorState) -> APIRouter:
    router = APIRouter()

    @router.post("/vivogpt/completions")
    async def completions(request: Request) -> Response:
        call = await begin(state, request, "chat")
        if call.early is not None:
            return call.early
        if call.injected_code is not None:
            return _error(call.injected_code, call.injected_msg)
        body = _json_or_none(call)
        try:
            content = reply_for(body, call.record.query)
        except ChatRefusal as refusal:
            return _error(refusal.code, refusal.msg)
        data = {
            "sessionId": body["sessionId"],
            "requestId": call.record.query["requestId"],
            "content": content,
            "provider": "vivo",
            "model": body["model"],
        }
        return JSONResponse({"code": 0, "data": data, "msg": "done."})

    @router.post("/vivogpt/completions/stream")
    async def completions_stream(request: Request) -> Response:
        call = await begin(state, request, "chat.stream")
        if call.early is not None:
            return call.early
        events = _stream_events(state, call, _json_or_none(call))
        return StreamingResponse(events, media_type="text/event-stream")

    return router


def _json_or_none(call: Call) -> Any:
    try:
        return call.record.json()
    except ValueError:
        return None


async def _stream_events(state: EmulatorState, call: Call, body: Any) -> AsyncIterator[bytes]:
    """SSE as §3.5 suggests: ``data:{"message":...}`` pieces, then ``event:close``."""
    try:
        content = reply_for(body, call.record.query)
    except ChatRefusal as refusal:
        yield _refusal_event(refusal.code, refusal.msg)
        return
    size = state.stream_piece_chars
    pieces = [content[i : i + size] for i in range(0, len(content), size)]
    injection = call.injection
    for index, piece in enumerate(pieces):
        if injection is not None and injection.code is not None and index == injection.after_pieces:
            yield _refusal_event(injection.code, call.injected_msg)
            return
        payload = json.dumps({"message": piece, "type": "text"}, ensure_ascii=False)
        yield f"data:{payload}\n\n".encode()
        await asyncio.sleep(0)
    yield b"event:close\ndata:{}\n\n"


def _refusal_event(code: int, msg: str) -> bytes:
    if code == 1007:
        payload = json.dumps({"reply": msg}, ensure_ascii=False)
        return f"event:antispam\ndata:{payload}\n\n".encode()
    payload = json.dumps({"code": code, "msg": msg}, ensure_ascii=False)
    return f"event:error\ndata:{payload}\n\n".encode()
