"""Emulated TTS WebSocket (§5): signed handshake, ``connect success``, PCM frames with status 0..2.

The PCM is a deterministic function of the text: ``state.tts_samples_per_char`` samples (default
0.1 s at 24 kHz) of a 440 Hz tone per character, so a test can compute the exact WAV duration.
A connection may carry several syntheses in a row (the documented flow).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import math
import struct
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.responses import JSONResponse
from starlette.websockets import WebSocketDisconnect

from tests.emulator.auth_check import AuthFailure, verify
from tests.emulator.state import EmulatorState, Injection, RecordedRequest

SAMPLE_RATE = 24000
FRAME_BYTES = 19200  # 0.4 s per frame
VOICES = {
    "short_audio_synthesis_jovi": {
        "vivoHelper",
        "yunye",
        "wanqing",
        "xiaofu",
        "yige_child",
        "yige",
        "yiyi",
        "xiaoming",
    },
    "long_audio_synthesis_screen": {
        "x2_vivoHelper",
        "x2_yige",
        "x2_yige_news",
        "x2_yunye",
        "x2_yunye_news",
        "x2_M02",
        "x2_M05",
        "x2_M10",
        "x2_F163",
        "x2_F25",
        "x2_F22",
        "x2_F82",
    },
    "tts_humanoid_lam": {
        "F245_natural",
        "M24",
        "M193",
        "GAME_GIR_YG",
        "GAME_GIR_MB",
        "GAME_GIR_YJ",
        "GAME_GIR_LTY",
        "YIGEXIAOV",
        "FY_CANTONESE",
        "FY_SICHUANHUA",
        "FY_MIAOYU",
    },
    "tts_replica": None,  # any cloned voice id
}
REQUIRED_QUERY = ("engineid", "system_time", "user_id", "model", "product", "package")


def _tone(samples: int) -> bytes:
    values = (int(8000 * math.sin(2 * math.pi * 440 * n / SAMPLE_RATE)) for n in range(samples))
    return struct.pack(f"<{samples}h", *values)


def pcm_for(text: str, samples_per_char: int) -> bytes:
    """The PCM the emulator synthesizes for ``text`` (16-bit mono, 24 kHz)."""
    unit = _tone(samples_per_char)
    return unit * len(text)


class FrameError(Exception):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def decode_frame(raw: str, engine: str) -> tuple[dict[str, Any], str]:
    """Validate one request frame (§5.2); return it and its decoded text."""
    try:
        frame = json.loads(raw)
    except ValueError:
        raise FrameError(10010, "frame is not JSON") from None
    missing = [k for k in ("aue", "auf", "vcn", "text", "encoding") if k not in frame]
    if missing:
        raise FrameError(10011, f"missing parameter {missing[0]}")
    try:
        text = base64.b64decode(frame["text"], validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise FrameError(11003, "text must be base64 of UTF-8") from None
    if len(text.encode("utf-8")) > 2048 or not text:
        raise FrameError(11003, "text must be 1..2048 bytes")
    voices = VOICES.get(engine)
    if voices is not None and frame["vcn"] not in voices:
        raise FrameError(11003, f"vcn {frame['vcn']} not available for {engine}")
    for key, low in (("speed", 0), ("volume", 1)):
        if key in frame and not low <= int(frame[key]) <= 100:
            raise FrameError(11003, f"{key} out of range")
    return {**frame, "decoded_text": text}, text


def _audio_frames(pcm: bytes) -> list[dict[str, Any]]:
    count = max(2, math.ceil(len(pcm) / FRAME_BYTES))
    size = math.ceil(len(pcm) / count)
    frames = []
    for index in range(count):
        status = 0 if index == 0 else (2 if index == count - 1 else 1)
        chunk = pcm[index * size : (index + 1) * size]
        data = {
            "status": status,
            "progress": f"{index + 1}-{count}",
            "hit": 0,
            "audio": base64.b64encode(chunk).decode(),
            "slice": index,
        }
        frame = {"ver": "emulator", "error_msg": "success", "req_id": 0, "error_code": 0, "data": data}
        if index == 0:
            frame["sid"] = uuid.uuid4().hex
        frames.append(frame)
    return frames


async def _synthesize(
    socket: WebSocket, state: EmulatorState, text: str, injection: Injection | None
) -> bool:
    """Send the frames of one synthesis; False when the injection dropped the connection."""
    if injection is not None and injection.delay_s:
        await asyncio.sleep(injection.delay_s)
    if injection is not None and injection.code is not None:
        await socket.send_json({"error_code": injection.code, "error_msg": injection.msg or "injected"})
        return True
    for index, frame in enumerate(_audio_frames(pcm_for(text, state.tts_samples_per_char))):
        await socket.send_json(frame)
        if injection is not None and injection.drop_websocket and index == 0:
            await socket.close(code=1011)
            return False
    return True


async def _handshake(socket: WebSocket, state: EmulatorState, record: RecordedRequest) -> bool:
    query = record.query
    try:
        record.auth = verify(
            "GET", "/tts", query, record.headers, state.credentials, state.max_skew_s, websocket=True
        )
    except AuthFailure as exc:
        await socket.send_denial_response(
            JSONResponse({"error_code": 10000, "error_msg": str(exc)}, status_code=400)
        )
        return False
    missing = [k for k in REQUIRED_QUERY if not query.get(k)]
    if missing:
        await socket.send_denial_response(
            JSONResponse({"error_code": 10000, "error_msg": f"missing {missing[0]}"}, status_code=400)
        )
        return False
    return True


def build_router(state: EmulatorState) -> APIRouter:
    router = APIRouter()

    @router.websocket("/tts")
    async def tts(socket: WebSocket) -> None:
        headers = {k.lower(): v for k, v in socket.headers.items()}
        record = state.record(RecordedRequest("tts", "GET", "/tts", dict(socket.query_params), headers))
        if not await _handshake(socket, state, record):
            return
        injection = state.take("tts")
        if injection is not None and injection.http_status:
            await socket.send_denial_response(
                JSONResponse(
                    {"error_code": 10001, "error_msg": injection.msg or "injected"},
                    status_code=injection.http_status,
                )
            )
            return
        await socket.accept()
        with state.lock:
            state.open_websockets += 1
        try:
            await _serve(socket, state, record, injection)
        except WebSocketDisconnect:
            pass
        finally:
            with state.lock:
                state.open_websockets -= 1

    return router


async def _serve(
    socket: WebSocket, state: EmulatorState, record: RecordedRequest, injection: Injection | None
) -> None:
    await socket.send_json({"error_code": 0, "error_msg": "connect success"})
    engine = record.query["engineid"]
    while True:
        raw = await socket.receive_text()
        if engine not in VOICES:
            await socket.send_json({"error_code": 10032, "error_msg": f"no engine {engine}"})
            continue
        try:
            frame, text = decode_frame(raw, engine)
        except FrameError as exc:
            await socket.send_json({"error_code": exc.code, "error_msg": exc.msg})
            continue
        record.frames.append(frame)
        if not await _synthesize(socket, state, text, injection):
            return
        injection = None
