"""vivo BlueLM routes through real Ray Serve (Gateway → VivoChat/VivoTTS handles) against the emulator.

Every response of this module is recorded; the last test greps them and Ray's log files for the
app keys (the configured one and a per-request one): they must never appear.
"""

from __future__ import annotations

import base64
import io
import json
import re
import struct
import uuid
import wave
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import TEST_APP_KEY

pytestmark = pytest.mark.integration

OTHER_APP_ID = "2025000777"
OTHER_APP_KEY = "PerRequest-Key-7f3a9c1e5b"
RECORDED: list[str] = []


def png(width: int = 16, height: int = 8) -> bytes:
    """A real (tiny, grey) PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _record(response: httpx.Response) -> None:
    response.read()
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    RECORDED.append(f"{response.status_code}\n{headers}\n{response.content.decode('latin-1')}")


@pytest.fixture
def client(serve_app) -> Iterator[httpx.Client]:
    serve_app.emulator.clear()
    serve_app.emulator.add_credentials(OTHER_APP_ID, OTHER_APP_KEY)
    with httpx.Client(base_url=serve_app.url, timeout=60, event_hooks={"response": [_record]}) as http:
        yield http
    serve_app.emulator.clear()


@pytest.fixture
def emu(serve_app):
    return serve_app.emulator


# --- TTS --------------------------------------------------------------------------------------


def test_tts_returns_a_wav_holding_exactly_the_pcm_vivo_sent(client, emu):
    text = "你好，欢迎使用蓝心大模型。"
    response = client.post("/bluelm/tts", json={"mode": "human", "text": text, "vcn": "M24"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    assert re.fullmatch(r"attachment; filename=\d{14}\.wav", response.headers["content-disposition"])
    with wave.open(io.BytesIO(response.content)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 24000)
        assert wav.getnframes() * 2 == emu.tts_pcm_bytes(text)
        assert wav.getnframes() / 24000 == pytest.approx(len(text) * 0.1)


def test_tts_without_mode_uses_the_human_engine_and_m24(client, emu):
    response = client.post("/bluelm/tts", json={"text": "默认音色"})
    assert response.status_code == 200, response.text
    call = emu.requests_for("tts")[-1]
    assert call.query["engineid"] == "tts_humanoid_lam"
    assert call.frames[-1]["vcn"] == "M24"


def test_tts_streams_an_open_ended_wav(client, emu):
    text = "流式合成的音频会边合成边返回给调用方。"
    pieces = []
    with client.stream("POST", "/bluelm/tts?stream=true", json={"text": text, "mode": "short"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "audio/wav"
        pieces = list(response.iter_bytes())
    body = b"".join(pieces)
    assert body[:4] == b"RIFF" and body[8:16] == b"WAVEfmt "
    assert struct.unpack("<I", body[40:44])[0] == 0xFFFFFFFF - 36  # length unknown while streaming
    assert len(body) - 44 == emu.tts_pcm_bytes(text)
    assert emu.requests_for("tts")[-1].query["engineid"] == "short_audio_synthesis_jovi"


def test_tts_connection_dropped_by_vivo_is_503(client, emu):
    emu.inject("tts", drop_websocket=True, times=5)
    response = client.post("/bluelm/tts", json={"text": "断开连接"})
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "vivo_unavailable"
    assert response.headers["retry-after"]


def test_tts_rejects_bad_input(client):
    assert client.post("/bluelm/tts", json={"text": ""}).json()["error"] == "bad_request"
    response = client.post("/bluelm/tts", json={"text": "hi", "mode": "opera"})
    assert response.status_code == 400 and "human" in response.json()["message"]


# --- chat -------------------------------------------------------------------------------------


def test_chat_answers_in_the_old_shape_with_history(client, emu):
    history = [{"role": "user", "content": "你是谁"}, {"role": "assistant", "content": "我是蓝心"}]
    response = client.post(
        "/bluelm/chat", json={"message": "你好", "session_id": "s-123", "history_messages": history}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == sorted(body) == ["data", "message", "session_id", "success", "timestamp"]
    assert body["success"] is True and body["session_id"] == "s-123"
    assert body["message"] == "Chat completed successfully"
    assert body["data"]["reply"] == "echo: 你好"
    assert body["data"]["role"] == "assistant"
    assert body["data"]["messages"] == [
        *history,
        {"role": "user", "content": "你好"},
        {"role": "assistant", "content": "echo: 你好"},
    ]
    sent = emu.requests_for("chat")[-1].json()
    assert sent["sessionId"] == "s-123" and sent["messages"][:2] == history


def test_chat_session_id_defaults_to_a_uuid4(client):
    body = client.post("/bluelm/chat", json={"message": "hello"}).json()
    assert uuid.UUID(body["session_id"]).version == 4


def test_chat_stream_sends_pieces_then_the_whole_reply(client):
    with client.stream("POST", "/bluelm/chat/stream", json={"message": "stream me please"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[5:]) for line in response.iter_lines() if line.startswith("data:")]
    deltas = [e["delta"] for e in events if "delta" in e]
    assert len(deltas) > 1
    assert "".join(deltas) == events[-1]["reply"] == "echo: stream me please"
    assert events[-1]["done"] is True


def test_multimodal_chat_is_a_real_vision_call(client, emu):
    image = png(16, 8)
    history = json.dumps([{"role": "user", "content": "看图"}, {"role": "assistant", "content": "好的"}])
    response = client.post(
        "/bluelm/chat/multimodal",
        data={"message": "图里有什么？", "history_messages": history, "session_id": "mm-1"},
        files={"image": ("photo.bin", image, "application/octet-stream")},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"]["reply"] == f"I see a PNG image 16x8 ({len(image)} bytes). You asked: 图里有什么？"
    assert "app_info" not in body and body["session_id"] == "mm-1"
    sent = emu.requests_for("chat")[-1].json()
    assert sent["model"] == "vivo-BlueLM-V-2.0"
    assert [m["content"] for m in sent["messages"][:2]] == ["看图", "好的"]
    assert sent["messages"][2]["contentType"] == "image"


def test_multimodal_without_image_is_a_text_chat(client):
    response = client.post("/bluelm/chat/multimodal", data={"message": "只有文字"})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["reply"] == "echo: 只有文字"


def test_multimodal_checks_the_image_by_content(client):
    response = client.post(
        "/bluelm/chat/multimodal",
        data={"message": "what?"},
        files={"image": ("fake.png", b"%PDF-1.7 not an image", "image/png")},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_image_type"
    missing = client.post("/bluelm/chat/multimodal", data={"message": ""})
    assert missing.status_code == 400 and missing.json()["message"] == "Message cannot be empty"


# --- translation ------------------------------------------------------------------------------


def test_translate_calls_vivo_with_mapped_codes(client, emu):
    response = client.post("/translate", json={"from": "zh", "to": "en", "text": "你好"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["translation"] == "Hello"
    assert (body["from"], body["to"], body["original_text"], body["success"]) == ("zh", "en", "你好", True)
    sent = emu.requests_for("translate")[-1].form()
    assert (sent["from"], sent["to"]) == ("zh-CHS", "en")


def test_translate_refuses_unsupported_pairs_and_echoes_same_language(client, emu):
    response = client.post("/translate", json={"from": "fr", "to": "en", "text": "bonjour"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_language"
    assert "auto, zh, en, ja, ko" in response.json()["message"]
    same = client.post("/translate", json={"from": "en", "to": "en", "text": "hello"})
    assert same.status_code == 200 and same.json()["translation"] == "hello"
    assert emu.requests_for("translate") == []


def test_languages_are_what_vivo_supports(client):
    body = client.get("/translate/languages").json()
    assert body["success"] is True
    assert list(body["languages"]) == ["auto", "zh", "en", "ja", "ko"]


def test_translation_evaluation_combines_rerank_and_critique(client, emu):
    payload = {
        "original_text": "我很好",
        "user_translation": "I am fine",
        "standard_answer": "I'm fine",
        "source_language": "zh",
        "target_language": "en",
    }
    response = client.post("/translate/evaluate", json=payload)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert 0 < body["similarity"]["score"] < 100
    assert body["ai_evaluation"]["fallback"] is True  # the emulator echoes; no scores to read
    assert body["data"]["score"] == body["similarity"]["score"]
    assert body["data"]["level"]
    assert emu.requests_for("rerank")[-1].json()["query"] == "I am fine"
    assert emu.requests_for("chat")


# --- OCR --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_ocr_answers_the_same_keys_in_every_mode(client, mode):
    image = png()
    response = client.post("/ocr", json={"image": base64.b64encode(image).decode(), "mode": mode})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["success"], body["message"]) == (True, "OCR识别成功")
    data = body["data"]
    assert set(data) == {"mode", "text", "lines", "angle", "word"}
    assert data["text"] == data["word"] == f"AuraLab OCR\n第二行文字 {len(image)}"
    assert [line["text"] for line in data["lines"]] == ["AuraLab OCR", f"第二行文字 {len(image)}"]
    location = data["lines"][0]["location"]
    if mode == 0:
        assert location is None
    else:
        assert location["top_left"] == ({"x": 10.0, "y": 10.0} if mode == 1 else {"x": 0.01, "y": 0.01})


def test_ocr_rejects_bad_base64_and_unsupported_images(client):
    bad = client.post("/ocr", json={"image": "not*base64*at*all", "mode": 0})
    assert bad.status_code == 400 and "base64" in bad.json()["message"]
    webp = base64.b64encode(b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8).decode()
    unsupported = client.post("/ocr", json={"image": webp, "mode": 0})
    assert unsupported.status_code == 400 and unsupported.json()["error"] == "unsupported_image_type"


# --- credentials and vivo errors --------------------------------------------------------------


def test_per_request_credentials_sign_the_call_and_are_not_echoed(client, emu):
    response = client.post(
        "/bluelm/chat", json={"message": "own account", "app_id": OTHER_APP_ID, "app_key": OTHER_APP_KEY}
    )
    assert response.status_code == 200, response.text
    assert emu.requests_for("chat")[-1].headers["x-ai-gateway-app-id"] == OTHER_APP_ID
    assert OTHER_APP_KEY not in response.text and OTHER_APP_ID not in response.text


def test_bad_credentials_are_502_vivo_auth_failed(client):
    payload = {"message": "hi", "app_id": OTHER_APP_ID, "app_key": OTHER_APP_KEY + "-wrong"}
    response = client.post("/bluelm/chat", json=payload)
    assert response.status_code == 502, response.text
    assert response.json()["error"] == "vivo_auth_failed"
    tts = client.post("/bluelm/tts", json={"text": "hi", "app_id": OTHER_APP_ID, "app_key": "nope-nope"})
    assert tts.status_code == 502 and tts.json()["error"] == "vivo_auth_failed"


def test_rate_limited_is_503_with_retry_after(client, emu):
    emu.inject("chat", code=30001, msg="hit model rate limit", times=10)
    response = client.post("/bluelm/chat", json={"message": "too fast"})
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "vivo_rate_limited"
    assert response.headers["retry-after"] == "2"


def test_vivo_down_is_503(client, emu):
    emu.inject("ocr", http_status=503, msg="upstream down", times=10)
    response = client.post("/ocr", json={"image": base64.b64encode(png()).decode(), "mode": 0})
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "vivo_unavailable"
    assert int(response.headers["retry-after"]) > 0


def test_moderation_is_422(client):
    response = client.post("/bluelm/chat", json={"message": "FORBIDDEN words"})
    assert response.status_code == 422
    assert response.json()["error"] == "vivo_content_rejected"


# --- secrets ----------------------------------------------------------------------------------


def test_no_app_key_anywhere_in_responses_or_ray_logs(client):
    """Runs last in this module: everything answered above, and every Ray/Serve log file."""
    import ray

    client.post(
        "/ocr", json={"image": base64.b64encode(png()).decode(), "app_id": "x", "app_key": OTHER_APP_KEY}
    )
    assert len(RECORDED) > 20
    for secret in (TEST_APP_KEY, OTHER_APP_KEY):
        leaked = [r[:200] for r in RECORDED if secret in r]
        assert not leaked, leaked
    log_dir = Path(ray._private.worker._global_node.get_session_dir_path()) / "logs"
    files = [p for p in log_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        # The test harness (conftest) hands APPKEY to Ray as a runtime_env env var, which Ray's
        # runtime-env agent logs verbatim; that line is the harness's, not the app's.
        lines = [line for line in path.read_bytes().splitlines() if b'"env_vars"' not in line]
        for secret in (TEST_APP_KEY, OTHER_APP_KEY):
            assert not [line for line in lines if secret.encode() in line], f"{secret[:6]}… in {path}"
