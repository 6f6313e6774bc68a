"""vivo BlueLM routes the AuraLab app calls: TTS, chat, vision chat, translation, evaluation, OCR.

Requests are validated here (clear 4xx before any vivo quota is spent), then forwarded to the
``VivoChat``/``VivoTTS`` proxy deployments through their handles. vivo's errors keep their
``code``/``status``/``retry_after`` across the handle and are mapped once by the API's error handler.
The caller's optional ``app_id``/``app_key`` only sign the call: never logged, never echoed.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import ValidationError

from deployments.context import GatewayContext, get_context
from deployments.errors import (
    ApiError,
    BadRequest,
    PayloadTooLarge,
    ServiceUnavailable,
    classify,
    validation_message,
)
from deployments.uploads import receive_multipart
from deployments.vivo_schemas import (
    ChatData,
    ChatMessage,
    ChatRequest,
    ChatResponse,
    EvaluateRequest,
    OCRData,
    OCRLine,
    OCRRequest,
    OCRResponse,
    TranslateRequest,
    TranslateResponse,
    TTSRequest,
)
from vivo import TTS_ENGINES, VivoBadRequest, resolve_voice, wav_header

router = APIRouter(tags=["bluelm"])

# What vivo translates (§7); the app's other codes (fr, de, ...) are refused with this list.
LANGUAGES = {"auto": "自动检测", "zh": "中文", "en": "英语", "ja": "日语", "ko": "韩语"}
_LANGUAGE_ALIASES = {"zh-chs": "zh", "zh-cn": "zh", "zh-hans": "zh", "cn": "zh", "jp": "ja", "kr": "ko"}
TRANSLATE_MAX_CHARS = 1200
# Magic bytes of the image types we accept; OCR takes only what vivo's OCR reads.
_IMAGE_MAGIC = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
)
VISION_IMAGE_TYPES = ("jpeg", "png", "webp", "gif", "bmp")
OCR_IMAGE_TYPES = ("jpeg", "png", "bmp")
_TRUE = {"1", "true", "yes", "on"}
_MAX_FORM_BYTES = 256 * 1024


class UnsupportedImage(ApiError):
    code = "unsupported_image_type"
    status = 400


class UnsupportedLanguage(ApiError):
    code = "unsupported_language"
    status = 400


def _timestamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def _handle(ctx: GatewayContext, name: str) -> Any:
    handles = ctx.vivo or {}
    handle = handles.get(name) if isinstance(handles, dict) else getattr(handles, name, None)
    if handle is None:
        raise ServiceUnavailable("The vivo proxies are not deployed in this application")
    return handle


def image_type(data: bytes) -> str | None:
    """The image format from its first bytes (never from a name or a declared type)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return next((name for magic, name in _IMAGE_MAGIC if data.startswith(magic)), None)


def check_image(data: bytes, allowed: tuple[str, ...], max_bytes: int) -> str:
    if not data:
        raise BadRequest("The image is empty")
    if len(data) > max_bytes:
        raise BadRequest(f"The image is larger than {max_bytes / (1024 * 1024):g} MB")
    kind = image_type(data)
    if kind not in allowed:
        raise UnsupportedImage(f"Unsupported image type; send one of: {', '.join(allowed)}")
    return kind


def _check_text(text: str, limit: int, what: str) -> str:
    if not text.strip():
        raise BadRequest(f"{what} cannot be empty")
    if len(text) > limit:
        raise BadRequest(f"{what} is too long: {len(text)} characters, the limit is {limit}")
    return text


# --- TTS -------------------------------------------------------------------------------------


@router.post("/bluelm/tts", response_class=Response)
async def tts(body: TTSRequest, request: Request, ctx: GatewayContext = Depends(get_context)) -> Response:
    """Text to a WAV (24 kHz, 16-bit, mono). ``?stream=true`` (or ``"stream": true``) streams it."""
    _check_text(body.text, ctx.args.limits.max_text_chars, "Text")
    try:
        voice = resolve_voice(body.mode, body.vcn)
    except VivoBadRequest:
        raise BadRequest(f"Unknown TTS mode {body.mode!r}; use one of: {', '.join(TTS_ENGINES)}") from None
    options = {
        "mode": voice.engine,
        "vcn": voice.vcn,
        "speed": body.speed,
        "volume": body.volume,
        "credentials": body.credentials(),
    }
    disposition = f"attachment; filename={time.strftime('%Y%m%d%H%M%S')}.wav"
    headers = {"Content-Disposition": disposition}
    tts_handle = _handle(ctx, "tts")
    if body.stream or request.query_params.get("stream", "").lower() in _TRUE:
        chunks = tts_handle.options(stream=True).pcm_stream.remote(body.text, **options)
        first = await _first(chunks)  # errors before any audio still get a proper status
        return StreamingResponse(_wav_stream(first, chunks), media_type="audio/wav", headers=headers)
    wav = await tts_handle.wav.remote(body.text, **options)
    return Response(wav, media_type="audio/wav", headers=headers)


async def _first(chunks: Any) -> bytes:
    try:
        return await chunks.__anext__()
    except StopAsyncIteration:
        return b""


async def _wav_stream(first: bytes, chunks: Any) -> AsyncIterator[bytes]:
    """An open-ended WAV header, then the PCM as the proxy receives it."""
    yield wav_header(None) + first
    async for chunk in chunks:
        yield chunk


# --- chat ------------------------------------------------------------------------------------


def _chat_messages(body: ChatRequest, ctx: GatewayContext) -> list[dict[str, str]]:
    limit = ctx.args.limits.max_text_chars
    if not body.message.strip():
        raise BadRequest("Message cannot be empty")
    _check_text(body.message, limit, "Message")
    history = [m.model_dump() for m in body.history_messages]
    if sum(len(m["content"]) for m in history) > 4 * limit:
        raise BadRequest(f"history_messages is too long: at most {4 * limit} characters in all")
    return [*history, {"role": "user", "content": body.message}]


def chat_response(messages: list[dict[str, str]], reply: str, session_id: str) -> dict[str, Any]:
    """The old gateway's chat body: history + the user's turn + the reply, sorted keys."""
    turns = [ChatMessage(**m) for m in messages] + [ChatMessage(role="assistant", content=reply)]
    data = ChatData(messages=turns, reply=reply)
    return ChatResponse(data=data, session_id=session_id, timestamp=_timestamp()).model_dump()


@router.post("/bluelm/chat")
async def chat(body: ChatRequest, ctx: GatewayContext = Depends(get_context)) -> dict[str, Any]:
    """BlueLM chat: ``history_messages`` + ``message``; ``session_id`` defaults to a new UUID."""
    messages = _chat_messages(body, ctx)
    session_id = body.session_id or str(uuid.uuid4())
    reply = await _handle(ctx, "chat").chat.remote(
        messages, session_id=session_id, credentials=body.credentials()
    )
    return chat_response(messages, reply.content, session_id)


@router.post("/bluelm/chat/stream")
async def chat_stream(body: ChatRequest, ctx: GatewayContext = Depends(get_context)) -> StreamingResponse:
    """The chat reply as server-sent events: ``data: {"delta": ...}`` pieces, then a final
    ``data: {"done": true, "reply": ..., "session_id": ...}`` (errors: ``event: error``)."""
    messages = _chat_messages(body, ctx)
    session_id = body.session_id or str(uuid.uuid4())
    pieces = (
        _handle(ctx, "chat")
        .options(stream=True)
        .chat_stream.remote(messages, session_id=session_id, credentials=body.credentials())
    )
    first = await _first_text(pieces)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(_sse(first, pieces, session_id), media_type="text/event-stream", headers=headers)


async def _first_text(pieces: Any) -> str | None:
    try:
        return str(await pieces.__anext__())
    except StopAsyncIteration:
        return None


async def _sse(first: str | None, pieces: Any, session_id: str) -> AsyncIterator[bytes]:
    def event(payload: dict[str, Any], name: str | None = None) -> bytes:
        head = f"event: {name}\n" if name else ""
        return f"{head}data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()

    reply = []
    try:
        if first is not None:
            reply.append(first)
            yield event({"delta": first})
            async for piece in pieces:
                reply.append(piece)
                yield event({"delta": piece})
    except Exception as exc:  # the status line is gone: report in-band
        _, code, message, _ = classify(exc)
        yield event({"error": code, "message": message}, "error")
        return
    yield event({"done": True, "reply": "".join(reply), "session_id": session_id})


@router.post("/bluelm/chat/multimodal")
async def chat_multimodal(request: Request, ctx: GatewayContext = Depends(get_context)) -> dict[str, Any]:
    """multipart: ``message`` (required), optional ``image`` (JPEG/PNG/WebP/GIF/BMP), ``session_id``,
    ``history_messages`` (a JSON array), ``app_id``/``app_key``. With an image: a real vision call."""
    limits = ctx.args.limits
    max_image = int(limits.max_image_mb * 1024 * 1024)
    fields, image, has_image = await _receive_form(request, max_image)
    try:  # the JSON routes get this check from FastAPI; a form is validated here, a 400 alike
        body = ChatRequest(
            message=fields.get("message", ""),
            session_id=fields.get("session_id") or None,
            history_messages=_history_field(fields.get("history_messages", "")),
            app_id=fields.get("app_id"),
            app_key=fields.get("app_key"),
        )
    except ValidationError as exc:
        raise BadRequest(validation_message(exc.errors())) from None
    messages = _chat_messages(body, ctx)
    session_id = body.session_id or str(uuid.uuid4())
    handle = _handle(ctx, "chat")
    if not has_image:
        reply = await handle.chat.remote(messages, session_id=session_id, credentials=body.credentials())
    else:
        check_image(image, VISION_IMAGE_TYPES, max_image)
        reply = await handle.vision_chat.remote(
            image, body.message, history=messages[:-1], session_id=session_id, credentials=body.credentials()
        )
    return chat_response(messages, reply.content, session_id)


async def _receive_form(request: Request, max_image: int) -> tuple[dict[str, str], bytes, bool]:
    """Multipart (with an optional ``image`` part), or a plain urlencoded form without an image."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > _MAX_FORM_BYTES:
                raise PayloadTooLarge("The form is too large")
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)), b"", False
    form = await receive_multipart(request, max_image, file_field="image")
    try:
        image = form.file_path.read_bytes() if form.file_path is not None else b""
    finally:
        form.cleanup()
    return form.fields, image, form.file_path is not None


def _history_field(raw: str) -> list[ChatMessage]:
    if not raw.strip():
        return []
    try:
        items = json.loads(raw)
        if not isinstance(items, list):
            raise ValueError
        return [ChatMessage.model_validate(item) for item in items][:100]
    except ValueError:
        raise BadRequest(
            'history_messages must be a JSON array of {"role": "user|assistant|system", "content": "..."}'
        ) from None


# --- translation -----------------------------------------------------------------------------


def language_code(code: str, *, target: bool) -> str:
    key = code.strip().lower()
    key = _LANGUAGE_ALIASES.get(key, key)
    if key not in LANGUAGES or (target and key == "auto"):
        choices = [c for c in LANGUAGES if not (target and c == "auto")]
        role = "target" if target else "source"
        raise UnsupportedLanguage(
            f"Unsupported {role} language {code!r}. Supported language codes: {', '.join(choices)}"
        )
    return key


@router.post("/translate")
async def translate(body: TranslateRequest, ctx: GatewayContext = Depends(get_context)) -> dict[str, Any]:
    """Translate between zh, en, ja and ko (source may be ``auto``); same language echoes the text."""
    source = language_code(body.source, target=False)
    target = language_code(body.target, target=True)
    _check_text(body.text, min(ctx.args.limits.max_text_chars, TRANSLATE_MAX_CHARS), "Text")
    if source == target:
        translation, message = body.text, "Source and target languages are the same"
    else:
        result = await _handle(ctx, "chat").translate.remote(
            body.text, source, target, credentials=body.credentials()
        )
        translation, message = result.translation, "Translation completed successfully"
    response = TranslateResponse(
        translation=translation, message=message, source=source, target=target, original_text=body.text
    )
    return response.model_dump(by_alias=True)


@router.get("/translate/languages")
async def languages() -> dict[str, Any]:
    """The languages vivo translates (the old list named six more that vivo never supported)."""
    return {"success": True, "languages": LANGUAGES}


@router.post("/translate/evaluate")
async def evaluate(body: EvaluateRequest, ctx: GatewayContext = Depends(get_context)) -> dict[str, Any]:
    """Score a translation against a reference: reranker similarity combined with a BlueLM critique."""
    limit = ctx.args.limits.max_text_chars
    for name in ("original_text", "user_translation", "standard_answer"):
        _check_text(getattr(body, name), limit, name)
    if len(body.user_translation) + len(body.standard_answer) > 500:
        raise BadRequest("user_translation plus standard_answer must be at most 500 characters")
    result = await _handle(ctx, "chat").evaluate.remote(
        body.original_text,
        body.user_translation,
        body.standard_answer,
        source=body.source_language,
        target=body.target_language,
        context=body.context,
        credentials=body.credentials(),
    )
    return {"success": True, "message": "Translation evaluated", "timestamp": _timestamp(), **result}


# --- OCR -------------------------------------------------------------------------------------


def decode_base64_image(value: str) -> bytes:
    text = value.strip()
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    text = "".join(text.split())
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("image is not valid base64") from None


@router.post("/ocr")
async def ocr(body: OCRRequest, ctx: GatewayContext = Depends(get_context)) -> dict[str, Any]:
    """Recognise text in a base64 image (JPEG, PNG or BMP). ``data`` has the same keys in every
    mode: ``mode``, ``text``, ``lines`` (``text`` + ``location``), ``angle``, ``word`` (= text)."""
    if body.mode not in (0, 1, 2):
        raise BadRequest("Unsupported OCR mode; use 0, 1 or 2")
    image = decode_base64_image(body.image)
    check_image(image, OCR_IMAGE_TYPES, int(ctx.args.limits.max_image_mb * 1024 * 1024))
    result = await _handle(ctx, "chat").ocr.remote(image, pos=body.mode, credentials=body.credentials())
    lines = [OCRLine(text=line.text, location=line.location if body.mode else None) for line in result.lines]
    data = OCRData(mode=body.mode, text=result.text, lines=lines, angle=result.angle, word=result.text)
    return OCRResponse(data=data).model_dump()
