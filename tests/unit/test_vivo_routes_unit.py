"""vivo routes without Ray: validation, error mapping, evaluation parsing, image sniffing.

The proxy classes run in-process behind a tiny stand-in for Serve handles; no network is used (an
unreachable vivo is a closed loopback port).
"""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deployments.api import create_api
from deployments.config import AppArgs, VivoArgs
from deployments.context import GatewayContext
from deployments.routes_vivo import decode_base64_image, image_type, language_code
from deployments.vivo_evaluation import evaluation, parse_critique, similarity_score
from deployments.vivo_proxy import VivoChat, VivoTTS
from storage import TaskStore, open_store

pytestmark = pytest.mark.unit

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00\x00\x00\x10\x00\x00\x00\x10" + b"\x00" * 16


class _Method:
    def __init__(self, method: Any, stream: bool):
        self.method = method
        self.stream = stream

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        result = self.method(*args, **kwargs)
        return result.__aiter__() if self.stream else result


class FakeHandle:
    """Enough of a Serve handle: ``handle.m.remote()`` and ``handle.options(stream=True)``."""

    def __init__(self, target: Any, stream: bool = False):
        self._target = target
        self._stream = stream

    def options(self, stream: bool = False, **_: Any) -> FakeHandle:
        return FakeHandle(self._target, stream)

    def __getattr__(self, name: str) -> _Method:
        return _Method(getattr(self._target, name), self._stream)


class _Chat(VivoChat.func_or_class):  # type: ignore[misc,name-defined]
    def __del__(self) -> None:  # the fixture closes the client; Serve would await the async one
        pass


class _TTS(VivoTTS.func_or_class):  # type: ignore[misc,name-defined]
    def __del__(self) -> None:
        pass


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def make_client(tmp_path, monkeypatch) -> Iterator[Any]:
    clients: list[TestClient] = []
    proxies: list[Any] = []

    def make(env: dict[str, str]) -> TestClient:
        for name in ("APPID", "APPKEY", "VIVO_BASE_URL", "VIVO_AUTH"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        args = AppArgs.model_validate({"storage": {"root": str(tmp_path / "store")}})
        vivo_args = VivoArgs(timeout_s=2, max_retries=0)
        store = open_store("local", root=args.storage.root)
        proxies.extend([_Chat(vivo_args), _TTS(vivo_args)])
        handles = {"chat": FakeHandle(proxies[-2]), "tts": FakeHandle(proxies[-1])}
        api = create_api(args)
        api.state.ctx = GatewayContext(args=args, store=store, tasks=TaskStore(store), vivo=handles)
        client = TestClient(api, raise_server_exceptions=False)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
    for proxy in proxies:
        asyncio.run(proxy.client.aclose())


def test_without_credentials_vivo_routes_answer_503_and_others_keep_working(make_client):
    client = make_client({"VIVO_BASE_URL": f"http://127.0.0.1:{_closed_port()}"})
    response = client.post("/bluelm/chat", json={"message": "你好"})
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "vivo_not_configured"
    assert "APPID" in body["message"] and "APPKEY" in body["message"]
    assert client.post("/bluelm/tts", json={"text": "你好"}).json()["error"] == "vivo_not_configured"
    assert client.get("/translate/languages").status_code == 200
    assert client.get("/bluelm/health").status_code == 200


def test_unreachable_vivo_is_503_with_retry_after(make_client):
    client = make_client(
        {"APPID": "id", "APPKEY": "unit-secret-key", "VIVO_BASE_URL": f"http://127.0.0.1:{_closed_port()}"}
    )
    response = client.post("/bluelm/chat", json={"message": "hi"})
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "vivo_unavailable"
    assert response.headers["retry-after"] == "5"
    assert "unit-secret-key" not in response.text


@pytest.mark.parametrize(
    ("route", "payload", "code", "fragment"),
    [
        ("/bluelm/tts", {"text": "  "}, "bad_request", "Text cannot be empty"),
        ("/bluelm/tts", {"text": "x" * 2001}, "bad_request", "too long"),
        ("/bluelm/tts", {"text": "hi", "mode": "opera"}, "bad_request", "short, long, human, replica"),
        ("/bluelm/tts", {"text": "hi", "speed": 101}, "bad_request", "speed"),
        ("/bluelm/chat", {"message": ""}, "bad_request", "Message cannot be empty"),
        (
            "/translate",
            {"from": "fr", "to": "en", "text": "bonjour"},
            "unsupported_language",
            "zh, en, ja, ko",
        ),
        ("/translate", {"from": "en", "to": "auto", "text": "hi"}, "unsupported_language", "target"),
        ("/ocr", {"image": "!!!not base64!!!", "mode": 0}, "bad_request", "base64"),
        (
            "/ocr",
            {"image": base64.b64encode(b"GIF89a....").decode(), "mode": 0},
            "unsupported_image_type",
            "jpeg",
        ),
        ("/ocr", {"image": base64.b64encode(PNG).decode(), "mode": 5}, "bad_request", "0, 1 or 2"),
    ],
)
def test_invalid_input_is_a_clear_400_before_vivo_is_called(make_client, route, payload, code, fragment):
    client = make_client({"VIVO_BASE_URL": f"http://127.0.0.1:{_closed_port()}"})
    response = client.post(route, json=payload)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == code
    assert fragment in response.json()["message"]


def test_same_language_translation_echoes_without_vivo(make_client):
    client = make_client({})
    response = client.post("/translate", json={"from": "zh-CN", "to": "zh", "text": "你好"})
    assert response.status_code == 200
    assert response.json()["translation"] == "你好"
    assert response.json()["from"] == "zh" and response.json()["to"] == "zh"


def test_image_types_are_sniffed_from_content():
    assert image_type(b"\xff\xd8\xff\xe0rest") == "jpeg"
    assert image_type(PNG) == "png"
    assert image_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert image_type(b"GIF87a") == "gif"
    assert image_type(b"BM\x00\x00") == "bmp"
    assert image_type(b"%PDF-1.7") is None


def test_base64_images_accept_data_urls_and_missing_padding():
    raw = base64.b64encode(PNG).decode().rstrip("=")
    assert decode_base64_image(raw) == PNG
    assert decode_base64_image("data:image/png;base64," + raw) == PNG


def test_language_codes_map_aliases():
    assert language_code("zh-CHS", target=True) == "zh"
    assert language_code("JP", target=False) == "ja"
    assert language_code("auto", target=False) == "auto"


def test_critique_is_parsed_from_labelled_lines_in_either_language():
    reply = (
        "**总体评价：** 译文基本准确。\n语法分数：88分\n准确性分数: 92/100\n- Fluency: 75\n"
        "改进建议：注意时态；用词更自然"
    )
    critique = parse_critique(reply)
    assert critique.scores == {"grammar": 88.0, "accuracy": 92.0, "fluency": 75.0}
    assert critique.summary == "译文基本准确。"
    result = evaluation(2.0, reply)
    assert result["ai_evaluation"]["fallback"] is False
    expected = 0.3 * similarity_score(2.0) + 0.7 * (88 + 92 + 75) / 3
    assert result["data"]["score"] == pytest.approx(expected, abs=0.05)
    assert result["data"]["improvements"] == ["注意时态", "用词更自然"]


def test_critique_as_json_and_unusable_reply_falls_back_flagged():
    parsed = parse_critique('Sure! {"grammar_score": 90, "accuracy_score": 80, "fluency_score": 70}')
    assert parsed.scores == {"grammar": 90.0, "accuracy": 80.0, "fluency": 70.0}
    result = evaluation(-1.0, "I cannot grade this. 语法分数：<0到100的整数>")
    assert result["ai_evaluation"]["fallback"] is True
    assert result["data"]["score"] == similarity_score(-1.0)
    assert result["ai_evaluation"]["grammar_score"] == similarity_score(-1.0)
    assert (
        0
        <= similarity_score(-50)
        < similarity_score(-1)
        < similarity_score(0)
        == 50.0
        < similarity_score(50)
        <= 100
    )
