"""Text-to-speech over vivo's WebSocket (§5): text in, 24 kHz 16-bit mono PCM out.

vivo takes at most 2048 UTF-8 bytes of text per request frame, so long text is split on character
boundaries, preferring sentence ends, and each piece is synthesized on its own connection (the one
flow every known client uses; reusing a connection is documented only vaguely). Audio is yielded as it
arrives so the gateway can stream it; :func:`pcm_to_wav` wraps the whole result in a WAV header.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import struct
import time
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from vivo.errors import VivoBadRequest, VivoUnavailable, VivoUpstreamError, error_from_code
from vivo.transport import VivoTransport

TTS_PATH = "/tts"
SAMPLE_RATE = 24000
SAMPLE_WIDTH = 2
CHANNELS = 1
MAX_TEXT_BYTES = 2048
# Frame ``reqId`` the Go SDK always sends; vivo only echoes it.
_REQ_ID = 513722013
ENGINES = {
    "short": "short_audio_synthesis_jovi",
    "long": "long_audio_synthesis_screen",
    "human": "tts_humanoid_lam",
    "replica": "tts_replica",
}
DEFAULT_MODE = "human"
DEFAULT_VOICES = {
    "short_audio_synthesis_jovi": "vivoHelper",
    "long_audio_synthesis_screen": "x2_vivoHelper",
    "tts_humanoid_lam": "M24",
}
_KNOWN_ENGINES = frozenset(ENGINES.values()) | {"short_audio_synthesis_customization"}
# Break after these, strongest first: sentence ends, then clause marks, then spaces.
_STREAM_SIZE = 0xFFFFFFFF - 36
_BREAKS = ("。！？!?\n", "；;：:，,、", " \t")


@dataclass(frozen=True)
class Voice:
    """The engine and voice one synthesis uses."""

    engine: str
    vcn: str


def resolve_voice(mode: str | None = None, vcn: str | None = None) -> Voice:
    """Map an app mode (short/long/human/replica, or an engine id) and voice to what vivo expects.

    A missing mode means ``human`` (``tts_humanoid_lam``) — the old gateway sent the literal
    ``TTS_MODE_HUMAN`` instead. Unknown modes are rejected rather than passed through to fail upstream.
    """
    key = (mode or DEFAULT_MODE).strip()
    engine = ENGINES.get(key.lower()) or (key if key in _KNOWN_ENGINES else None)
    if engine is None:
        raise VivoBadRequest(f"unknown TTS mode {key!r}; use one of {', '.join(ENGINES)}")
    voice = vcn or DEFAULT_VOICES.get(engine)
    if not voice:
        raise VivoBadRequest(f"TTS engine {engine} needs a voice (vcn), e.g. a cloned voice id")
    return Voice(engine, voice)


def split_text(text: str, max_bytes: int = MAX_TEXT_BYTES) -> list[str]:
    """Cut ``text`` into pieces of at most ``max_bytes`` UTF-8 bytes, never inside a character.

    Each cut is made after the last sentence end that fits, else the last clause mark or space,
    else at the last whole character that fits.
    """
    if max_bytes < 4:
        raise ValueError("max_bytes must leave room for any UTF-8 character")
    pieces: list[str] = []
    rest = text
    while len(rest.encode("utf-8")) > max_bytes:
        cut = _cut_index(rest, max_bytes)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest.strip():
        pieces.append(rest)
    return [p for p in pieces if p.strip()]


def _cut_index(text: str, max_bytes: int) -> int:
    fits = _chars_within(text, max_bytes)
    for marks in _BREAKS:
        best = max(text.rfind(m, 0, fits) for m in marks)
        if best > 0:
            return best + 1
    return fits


def _chars_within(text: str, max_bytes: int) -> int:
    """How many leading characters of ``text`` fit in ``max_bytes`` UTF-8 bytes."""
    used = 0
    for index, char in enumerate(text):
        used += len(char.encode("utf-8"))
        if used > max_bytes:
            return index
    return len(text)


def build_frame(
    text: str, voice: Voice, *, speed: int | None = None, volume: int | None = None
) -> dict[str, Any]:
    """The JSON request frame of §5.2 (text base64-encoded; speed 0–100, volume 1–100)."""
    frame: dict[str, Any] = {
        "aue": 0,
        "auf": f"audio/L16;rate={SAMPLE_RATE}",
        "vcn": voice.vcn,
        "reqId": _REQ_ID,
        "text": base64.b64encode(text.encode("utf-8")).decode("ascii"),
        "encoding": "utf8",
    }
    if speed is not None:
        if not 0 <= speed <= 100:
            raise VivoBadRequest("TTS speed must be between 0 and 100")
        frame["speed"] = speed
    if volume is not None:
        if not 1 <= volume <= 100:
            raise VivoBadRequest("TTS volume must be between 1 and 100")
        frame["volume"] = volume
    return frame


def handshake_query(engine: str, system_time: int | None = None) -> dict[str, str]:
    """The handshake query of §5.1 with the realistic device values known to be accepted."""
    return {
        "engineid": engine,
        "system_time": str(int(time.time()) if system_time is None else system_time),
        "user_id": "userX",
        "model": "V1809A",
        "product": "PD1809",
        "package": "com.vivo.agent",
        "client_version": "47405",
        "system_version": "PD1809_A_7.6.22",
        "sdk_version": "1.1.2.1",
        "android_version": "9",
    }


async def synthesize(
    transport: VivoTransport,
    text: str,
    *,
    mode: str | None = None,
    vcn: str | None = None,
    speed: int | None = None,
    volume: int | None = None,
    credentials: tuple[str, str] | None = None,
) -> AsyncIterator[bytes]:
    """Yield PCM chunks (24 kHz, s16le, mono) for ``text`` as vivo produces them."""
    voice = resolve_voice(mode, vcn)
    pieces = split_text(text)
    if not pieces:
        raise VivoBadRequest("TTS text is empty")
    frames = [build_frame(p, voice, speed=speed, volume=volume) for p in pieces]
    for frame in frames:
        conn = await transport.connect_websocket(
            TTS_PATH, handshake_query(voice.engine), credentials=credentials
        )
        try:
            async for chunk in _converse(conn, frame, transport.settings.timeout_s):
                yield chunk
        finally:
            await conn.close()


async def _converse(
    socket: ClientConnection, frame: dict[str, Any], timeout_s: float
) -> AsyncIterator[bytes]:
    """Wait for ``connect success``, send one frame, yield audio until the ``status 2`` frame."""
    sent = False
    while True:
        message = await _receive(socket, timeout_s)
        code = message.get("error_code", 0)
        if code:
            raise error_from_code(int(code), str(message.get("error_msg", "")))
        data = message.get("data")
        if not sent:
            await socket.send(json.dumps(frame))
            sent = True
            if not isinstance(data, dict):
                continue  # the "connect success" greeting
        if not isinstance(data, dict):
            continue
        audio = data.get("audio")
        if audio:
            yield base64.b64decode(audio)
        if data.get("status") == 2:
            return


async def _receive(socket: ClientConnection, timeout_s: float) -> dict[str, Any]:
    try:
        raw = await asyncio.wait_for(socket.recv(), timeout_s)
    except TimeoutError:
        raise VivoUnavailable(f"vivo TTS sent nothing for {timeout_s:g}s") from None
    except ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd else "none"
        raise VivoUnavailable(
            f"vivo TTS closed the connection before synthesis finished (close code {code})"
        ) from None
    try:
        message = json.loads(raw)
    except ValueError:
        raise VivoUpstreamError("vivo TTS sent a frame that is not JSON") from None
    if not isinstance(message, dict):
        raise VivoUpstreamError("vivo TTS sent an unexpected frame")
    return message


async def synthesize_pcm(transport: VivoTransport, text: str, **options: Any) -> bytes:
    """All PCM for ``text`` as one bytes object (see :func:`synthesize` for the options)."""
    return b"".join([chunk async for chunk in synthesize(transport, text, **options)])


def wav_header(data_bytes: int | None = None) -> bytes:
    """The 44-byte WAV header for ``data_bytes`` of 24 kHz 16-bit mono PCM.

    ``None`` gives a streaming header whose sizes are the maximum (the length is not known yet when
    the first bytes go out); players read such a stream until it ends.
    """
    size = _STREAM_SIZE if data_bytes is None else data_bytes
    riff = min(36 + size, 0xFFFFFFFF)
    byte_rate = SAMPLE_RATE * SAMPLE_WIDTH * CHANNELS
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        riff,
        b"WAVE",
        b"fmt ",
        16,
        1,
        CHANNELS,
        SAMPLE_RATE,
        byte_rate,
        SAMPLE_WIDTH * CHANNELS,
        SAMPLE_WIDTH * 8,
        b"data",
        size,
    )


def pcm_to_wav(pcm: bytes) -> bytes:
    """Wrap PCM in a canonical 44-byte RIFF header (24 kHz, 16-bit, mono), as vivo's sample does."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(CHANNELS)
        writer.setsampwidth(SAMPLE_WIDTH)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(pcm)
    return buffer.getvalue()
