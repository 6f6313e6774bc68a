"""The real vivo client against the real emulator over loopback: every capability, every failure."""

from __future__ import annotations

import asyncio
import hashlib
import io
import struct
import time
import wave
import zlib

import httpx
import pytest
import pytest_asyncio

from tests.emulator import VivoEmulator
from tests.emulator.lasr_routes import expected_sentences
from vivo import (
    VivoAuthError,
    VivoBadRequest,
    VivoClient,
    VivoModerationError,
    VivoRateLimited,
    VivoSettings,
    VivoUnavailable,
)
from vivo.auth import hmac_headers

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def emu():
    with VivoEmulator() as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _clean(emu):
    emu.clear()
    emu.set_options(lasr_polls_to_finish=3, tts_samples_per_char=2400)
    yield
    emu.clear()


def settings_for(emu: VivoEmulator, **overrides) -> VivoSettings:
    options = {
        "app_id": emu.app_id,
        "app_key": emu.app_key,
        "base_url": emu.base_url,
        "timeout_s": 5.0,
        "connect_timeout_s": 2.0,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
    }
    options.update(overrides)
    return VivoSettings(**options)


@pytest_asyncio.fixture
async def client(emu):
    async with VivoClient(settings_for(emu)) as vivo_client:
        yield vivo_client


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


# --- chat ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_chat_round_trip_is_signed_and_never_sends_the_key(emu, client):
    reply = await client.chat([{"role": "user", "content": "今天天气怎么样"}], session_id="s1")
    assert reply.content == "echo: 今天天气怎么样"
    assert reply.session_id == "s1"
    (request,) = emu.requests_for("chat")
    assert request.auth == "hmac" and request.query["requestId"] == reply.request_id
    assert emu.app_key not in request.raw()


@pytest.mark.asyncio
async def test_stream_gives_the_same_text_as_sync_in_pieces(client):
    sync = await client.chat(prompt="stream me please")
    pieces = [p async for p in client.chat_stream(prompt="stream me please")]
    assert len(pieces) > 3
    assert "".join(pieces) == sync.content


@pytest.mark.asyncio
async def test_stream_error_midway_keeps_pieces_and_raises(emu, client):
    emu.inject("chat.stream", code=30001, msg="hit model rate limit", after_pieces=2)
    pieces = []
    with pytest.raises(VivoRateLimited):
        async for piece in client.chat_stream(prompt="abcdefghijkl"):
            pieces.append(piece)
    assert "".join(pieces) == "echo: "  # two 3-char pieces


@pytest.mark.asyncio
async def test_moderation_in_sync_and_stream(client):
    with pytest.raises(VivoModerationError) as info:
        await client.chat(prompt="FORBIDDEN words")
    assert info.value.status == 422
    with pytest.raises(VivoModerationError, match="抱歉"):
        async for _ in client.chat_stream(prompt="FORBIDDEN words"):
            pass


@pytest.mark.asyncio
async def test_vision_chat_image_reaches_the_model_intact(emu, client):
    reply = await client.vision_chat(png(7, 5), "What is in the picture?")
    assert "PNG image 7x5" in reply.content and "What is in the picture?" in reply.content
    body = emu.requests_for("chat")[0].json()
    assert body["model"] == "vivo-BlueLM-V-2.0"
    assert body["messages"][0]["content"].startswith("data:image/JPEG;base64,")
    stream = [p async for p in client.vision_chat_stream(png(3, 3), "again?", model="BlueLM-Vision-prd")]
    assert "PNG image 3x3" in "".join(stream)


@pytest.mark.asyncio
async def test_rate_limit_is_retried_and_then_succeeds(emu, client):
    emu.inject("chat", code=30001, msg="hit model rate limit", times=1)
    reply = await client.chat(prompt="retry me")
    assert reply.content == "echo: retry me"
    assert len(emu.requests_for("chat")) == 2


@pytest.mark.asyncio
async def test_persistent_rate_limit_surfaces_as_503(emu, client):
    emu.inject("chat", code=30001, msg="hit model rate limit", times=10)
    with pytest.raises(VivoRateLimited) as info:
        await client.chat(prompt="x")
    assert info.value.status == 503 and info.value.retry_after
    assert len(emu.requests_for("chat")) == 3  # first try + max_retries (2)


# --- auth ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_wrong_key_is_an_auth_error_and_the_key_stays_secret(emu):
    wrong = "wrong-key-123456"
    async with VivoClient(settings_for(emu, app_key=wrong)) as bad:
        with pytest.raises(VivoAuthError) as info:
            await bad.chat(prompt="hi")
        assert "invalid api-key" in str(info.value) and wrong not in str(info.value)
        with pytest.raises(VivoAuthError):
            await bad.tts_wav("你好")
    assert len(emu.requests_for("chat")) == 1  # auth errors are not retried


@pytest.mark.asyncio
async def test_bearer_generation_works_for_http_and_websocket(emu):
    async with VivoClient(settings_for(emu, auth="bearer")) as bearer:
        assert (await bearer.chat(prompt="b")).content == "echo: b"
        assert len(await bearer.tts_wav("好")) == 44 + emu.tts_pcm_bytes("好")
    assert {r.auth for r in emu.requests} == {"bearer"}


@pytest.mark.asyncio
async def test_per_call_credentials_use_the_callers_account(emu, client):
    emu.add_credentials("caller-app", "caller-key-777")
    reply = await client.chat(prompt="mine", credentials=("caller-app", "caller-key-777"))
    assert reply.content == "echo: mine"
    assert emu.requests[-1].headers["x-ai-gateway-app-id"] == "caller-app"
    with pytest.raises(VivoAuthError):
        await client.chat(prompt="mine", credentials=("caller-app", "not-the-key"))


def test_old_timestamps_are_rejected(emu):
    params = {"requestId": "r1"}
    body = {"model": "vivo-BlueLM-TB-Pro", "sessionId": "s", "prompt": "hi"}
    for age, expected in ((0, 200), (1000, 401)):
        headers = hmac_headers(
            emu.app_id, emu.app_key, "POST", "/vivogpt/completions", params, timestamp=int(time.time()) - age
        )
        answer = httpx.post(f"{emu.base_url}/vivogpt/completions", params=params, json=body, headers=headers)
        assert answer.status_code == expected
    assert answer.json() == {"message": "invalid api-key"}


# --- TTS ----------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_tts_wav_duration_equals_the_pcm_sent(emu, client):
    text = "你好，欢迎使用蓝心大模型。"
    wav = await client.tts_wav(text)
    with wave.open(io.BytesIO(wav)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, 24000)
        assert reader.getnframes() == len(text) * 2400
        assert reader.getnframes() / reader.getframerate() == pytest.approx(len(text) * 0.1)
    (request,) = emu.requests_for("tts")
    assert request.query["engineid"] == "tts_humanoid_lam"  # the default mode, not TTS_MODE_HUMAN
    assert request.frames[0]["vcn"] == "M24" and request.frames[0]["decoded_text"] == text
    assert emu.app_key not in request.raw()


@pytest.mark.asyncio
async def test_tts_long_text_is_split_and_streamed_in_order(emu, client):
    emu.set_options(tts_samples_per_char=24)
    text = "这是一段很长的测试文本，用来检查分段合成。" * 120  # ~7.5 kB of UTF-8
    chunks = [c async for c in client.tts_stream(text, mode="long", speed=70, volume=90)]
    assert len(chunks) >= 6  # ≥2 frames for each of ≥3 pieces
    assert len(b"".join(chunks)) == emu.tts_pcm_bytes(text)
    frames = [f for r in emu.requests_for("tts") for f in r.frames]
    assert len(frames) >= 4
    assert "".join(f["decoded_text"] for f in frames) == text
    assert all(len(f["decoded_text"].encode()) <= 2048 for f in frames)
    assert {(f["speed"], f["volume"], f["vcn"]) for f in frames} == {(70, 90, "x2_vivoHelper")}


async def _wait_closed(emu: VivoEmulator) -> int:
    for _ in range(100):
        if emu.open_websockets == 0:
            break
        await asyncio.sleep(0.02)
    return emu.open_websockets


@pytest.mark.asyncio
async def test_tts_dropped_connection_is_a_clear_error_without_leaks(emu, client):
    emu.inject("tts", drop_websocket=True)
    with pytest.raises(VivoUnavailable, match="closed the connection before synthesis finished"):
        await client.tts_wav("掉线测试文本")
    assert await _wait_closed(emu) == 0


@pytest.mark.asyncio
async def test_tts_consumer_stopping_early_closes_the_socket(emu, client):
    stream = client.tts_stream("一二三四五六七八九十" * 5)
    first = await anext(stream)
    assert first
    await stream.aclose()
    assert await _wait_closed(emu) == 0


@pytest.mark.asyncio
async def test_tts_error_frames_map_to_our_errors(emu, client):
    emu.inject("tts", code=11001, msg="overload")
    with pytest.raises(VivoRateLimited):
        await client.tts_wav("忙")
    with pytest.raises(VivoBadRequest, match="unknown TTS mode"):
        await client.tts_wav("x", mode="TTS_MODE_HUMAN")
    assert await _wait_closed(emu) == 0


# --- LASR ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_long_transcription_full_flow_from_a_file(emu, client, tmp_path):
    audio = hashlib.sha256(b"seed").digest() * 4000  # 128 000 bytes
    path = tmp_path / "meeting.wav"
    path.write_bytes(audio)
    seen: list[int] = []
    job = await client.lasr_start(path, slice_bytes=50_000)
    sentences = await client.lasr_wait(job, on_progress=seen.append, poll_interval_s=0.01)
    assert [s.to_dict() for s in sentences] == expected_sentences(audio)
    assert {s.speaker for s in sentences} == {1, 2}
    assert seen == [33, 66, 100]
    steps = [r.capability for r in emu.requests_for("lasr")]
    assert steps == [
        "lasr.create",
        "lasr.upload",
        "lasr.upload",
        "lasr.upload",
        "lasr.run",
        "lasr.progress",
        "lasr.progress",
        "lasr.progress",
        "lasr.result",
    ]


@pytest.mark.asyncio
async def test_lasr_run_failure_is_not_resent(emu, client):
    emu.inject("lasr.run", http_status=500)
    with pytest.raises(VivoUnavailable):
        await client.transcribe_long(b"\x00\x01" * 100, poll_interval_s=0.01)
    assert len(emu.requests_for("lasr.run")) == 1


@pytest.mark.asyncio
async def test_lasr_progress_glitch_is_retried(emu, client):
    emu.inject("lasr.progress", http_status=503)
    sentences = await client.transcribe_long(b"abc" * 10, poll_interval_s=0.01)
    assert sentences[0].onebest == "收到30字节音频。"


# --- translation, OCR, rerank -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_translation(emu, client):
    result = await client.translate("你好", "zh", "en")
    assert (result.translation, result.source, result.target) == ("Hello", "zh-CHS", "en")
    assert emu.requests_for("translate")[0].form()["from"] == "zh-CHS"
    with pytest.raises(VivoBadRequest):
        await client.translate("Bonjour", "fr", "zh")
    assert len(emu.requests_for("translate")) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("pos", [0, 1, 2])
async def test_ocr_has_one_shape_for_every_pos(client, pos):
    result = (await client.ocr(png(4, 4), pos=pos)).to_dict()
    assert set(result) == {"text", "lines", "angle"}
    assert result["text"].splitlines()[0] == "AuraLab OCR"
    has_boxes = [line["location"] is not None for line in result["lines"]]
    assert has_boxes == [pos != 0] * 2
    if pos == 2:
        assert all(0 <= c["x"] <= 1 for line in result["lines"] for c in line["location"].values())


@pytest.mark.asyncio
async def test_ocr_server_error_is_retried_then_succeeds(emu, client):
    emu.inject("ocr", http_status=500)
    assert (await client.ocr(b"img")).lines
    assert len(emu.requests_for("ocr")) == 2


@pytest.mark.asyncio
async def test_rerank_prefers_the_closer_sentence(client):
    scores = await client.rerank("I am fine", ["I am fine", "今天下雨"])
    assert scores[0] > scores[1]


# --- availability -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_timeout_is_honoured(emu):
    emu.inject("ocr", delay_s=3)
    async with VivoClient(settings_for(emu, timeout_s=0.5, max_retries=0)) as slow:
        started = time.monotonic()
        with pytest.raises(VivoUnavailable, match=r"within 0\.5s"):
            await slow.ocr(b"img")
        assert time.monotonic() - started < 2


@pytest.mark.asyncio
async def test_emulator_down_gives_unavailable_quickly():
    down = VivoEmulator().start()
    settings = VivoSettings(
        app_id=down.app_id,
        app_key=down.app_key,
        base_url=down.base_url,
        max_retries=1,
        backoff_base_s=0.01,
        connect_timeout_s=1,
    )
    down.stop()
    async with VivoClient(settings) as client:
        started = time.monotonic()
        with pytest.raises(VivoUnavailable) as info:
            await client.chat(prompt="anyone?")
        with pytest.raises(VivoUnavailable):
            await client.tts_wav("有人吗")
        assert time.monotonic() - started < 3
    assert info.value.status == 503
