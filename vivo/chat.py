"""BlueLM chat: synchronous completions, the SSE stream and vision chat (§3, §4).

All three share one endpoint family and envelope; vision differs only by the model and by messages
carrying ``contentType`` with the image as a ``data:image/JPEG;base64,`` URL in ``content``.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vivo.errors import (
    VivoBadRequest,
    VivoModerationError,
    VivoUpstreamError,
    error_from_code,
)
from vivo.transport import VivoTransport

CHAT_PATH = "/vivogpt/completions"
STREAM_PATH = "/vivogpt/completions/stream"
DEFAULT_MODEL = "vivo-BlueLM-TB-Pro"
DEFAULT_VISION_MODEL = "vivo-BlueLM-V-2.0"
VISION_MODELS = frozenset({"vivo-BlueLM-V-2.0", "BlueLM-Vision-prd"})
MESSAGE_ROLES = frozenset({"user", "assistant", "system", "function"})
# vivo's own samples and the Go SDK use this exact prefix, whatever the real image format is.
IMAGE_DATA_URL_PREFIX = "data:image/JPEG;base64,"


@dataclass(frozen=True)
class ChatReply:
    """The assistant's answer and the ids vivo echoed back."""

    content: str
    session_id: str
    request_id: str
    model: str


def build_body(
    messages: Sequence[Mapping[str, Any]] | None,
    *,
    prompt: str | None,
    system_prompt: str | None,
    model: str,
    session_id: str,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The JSON body of §3.2, omitting empty optional fields like the Go SDK does."""
    if not messages and not prompt:
        raise VivoBadRequest("a chat needs either messages or a prompt")
    body: dict[str, Any] = {"model": model, "sessionId": session_id}
    if messages:
        body["messages"] = [_checked_message(m) for m in messages]
    if prompt:
        body["prompt"] = prompt
    if system_prompt:
        body["systemPrompt"] = system_prompt
    if extra:
        body["extra"] = dict(extra)
    return body


def vision_messages(
    image: bytes,
    question: str,
    history: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """Messages for a vision model: earlier turns, then the image, then the question (§4)."""
    if not image:
        raise VivoBadRequest("vision chat needs a non-empty image")
    if not question.strip():
        raise VivoBadRequest("vision chat needs a question about the image")
    encoded = base64.b64encode(image).decode("ascii")
    turns = [{**m, "contentType": m.get("contentType", "text")} for m in history]
    turns.append({"role": "user", "content": IMAGE_DATA_URL_PREFIX + encoded, "contentType": "image"})
    turns.append({"role": "user", "content": question, "contentType": "text"})
    return turns


async def complete(
    transport: VivoTransport,
    body: Mapping[str, Any],
    *,
    request_id: str | None = None,
    credentials: tuple[str, str] | None = None,
) -> ChatReply:
    """POST a chat body and return the reply; vivo's ``code`` is mapped to our errors."""
    request_id = request_id or str(uuid.uuid4())
    answer = await transport.request_json(
        CHAT_PATH,
        params={"requestId": request_id},
        json=body,
        credentials=credentials,
        idempotent=True,
    )
    data = answer.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("content"), str):
        raise VivoUpstreamError("vivo chat answered without data.content")
    return ChatReply(
        content=data["content"],
        session_id=str(data.get("sessionId") or body["sessionId"]),
        request_id=str(data.get("requestId") or request_id),
        model=str(data.get("model") or body["model"]),
    )


async def stream(
    transport: VivoTransport,
    body: Mapping[str, Any],
    *,
    request_id: str | None = None,
    credentials: tuple[str, str] | None = None,
) -> AsyncIterator[str]:
    """Yield the reply's text pieces as vivo streams them (SSE, §3.5).

    ``event:error`` raises the mapped error, ``event:antispam`` raises
    :class:`VivoModerationError` with vivo's moderation text, ``event:close`` ends the stream.
    """
    params = {"requestId": request_id or str(uuid.uuid4())}
    async with transport.stream_lines(
        STREAM_PATH, params=params, json=body, credentials=credentials
    ) as lines:
        event = ""
        async for raw in lines:
            line = raw.strip()
            if not line:
                event = ""
            elif line.startswith("event:"):
                event = line[len("event:") :].strip()
                if event == "close":
                    return
            elif line.startswith("data:"):
                piece = _piece(event, line[len("data:") :].strip())
                if piece:
                    yield piece


def _piece(event: str, payload: str) -> str:
    """The text of one ``data:`` line, or raise for the error and moderation events."""
    if payload == "[DONE]":
        return ""
    try:
        data = json.loads(payload) if payload else {}
    except ValueError:
        raise VivoUpstreamError("vivo stream sent a data line that is not JSON") from None
    if not isinstance(data, dict):
        return ""
    if event == "antispam":
        raise VivoModerationError(str(data.get("reply") or "vivo rejected the content"))
    code = data.get("code")
    if event == "error" or (isinstance(code, int) and code != 0 and "msg" in data):
        return _raise_stream_error(data)
    text = data.get("message", data.get("reply", ""))
    return text if isinstance(text, str) else ""


def _raise_stream_error(data: Mapping[str, Any]) -> str:
    code = data.get("code")
    message = str(data.get("msg") or data.get("message") or "stream error")
    if isinstance(code, int):
        raise error_from_code(code, message)
    raise VivoUpstreamError(f"vivo stream error: {message}")


def _checked_message(message: Mapping[str, Any]) -> dict[str, Any]:
    role = message.get("role")
    if role not in MESSAGE_ROLES:
        raise VivoBadRequest(f"message role must be one of {sorted(MESSAGE_ROLES)}, not {role!r}")
    if not isinstance(message.get("content"), str):
        raise VivoBadRequest("every message needs a text content")
    return dict(message)
