"""Request signing: the worked examples of VIVO_PROTOCOL.md §2.1 must come out exactly."""

from __future__ import annotations

import re
import time

import pytest

from tests.emulator.auth_check import AuthFailure, verify
from vivo.auth import (
    SIGNED_HEADERS,
    bearer_headers,
    canonical_query,
    hmac_headers,
    signing_string,
)

pytestmark = pytest.mark.unit

APP_ID, APP_KEY, TS, NONCE = "2025000001", "AbCdEfGhIjKlMnOp", 1700000000, "k3j9x2mq"
TTS_QUERY = {
    "engineid": "short_audio_synthesis_jovi",
    "system_time": 1700000000,
    "user_id": "userX",
    "model": "modelX",
    "product": "productX",
    "package": "packageX",
    "client_version": 0,
    "system_version": 0,
    "sdk_version": 0,
    "android_version": 9,
}


@pytest.mark.parametrize(
    ("method", "path", "params", "expected"),
    [
        (
            "POST",
            "/vivogpt/completions",
            {"requestId": "0b5d3c9e-7a61-4c1e-9d1a-2f8f6c3e1a22"},
            "/lRnxQ5iCD1oob59eAI5OhF402bWootZ5srFzxxL/hA=",
        ),
        ("POST", "/ocr/general_recognition", None, "tcLPbVf+hVLxTjrfF0FIw1ibX7KeDjKEsCZM4VK0eUk="),
        ("GET", "/tts", TTS_QUERY, "Wt9p4ORl0XMoLsfCrtZVM1d+bEbGORaapgTGItzniyY="),
    ],
    ids=["chat", "ocr-no-query", "tts-handshake"],
)
def test_worked_examples(method, path, params, expected):
    headers = hmac_headers(APP_ID, APP_KEY, method, path, params, timestamp=TS, nonce=NONCE)
    assert headers["X-AI-GATEWAY-SIGNATURE"] == expected


def test_tts_canonical_query_is_sorted_like_the_reference():
    assert canonical_query(TTS_QUERY) == (
        "android_version=9&client_version=0&engineid=short_audio_synthesis_jovi&model=modelX"
        "&package=packageX&product=productX&sdk_version=0&system_time=1700000000"
        "&system_version=0&user_id=userX"
    )


def test_signing_string_has_eight_lines_and_empty_query_line():
    text = signing_string("post", "/ocr/general_recognition", "", APP_ID, str(TS), NONCE)
    lines = text.split("\n")
    assert len(lines) == 8
    assert lines[0] == "POST" and lines[2] == "" and lines[-1] == f"x-ai-gateway-nonce:{NONCE}"


def test_python_and_go_encodings_differ_only_on_space_and_slash():
    params = {"q": "a b/c", "plain": "abc-1_2.3~"}
    assert canonical_query(params) == "plain=abc-1_2.3~&q=a%20b/c"
    assert canonical_query(params, "go") == "plain=abc-1_2.3~&q=a+b%2Fc"


def test_header_set_is_complete_and_fresh():
    headers = hmac_headers(APP_ID, APP_KEY, "POST", "/rerank")
    assert set(headers) == {
        "X-AI-GATEWAY-APP-ID",
        "X-AI-GATEWAY-TIMESTAMP",
        "X-AI-GATEWAY-NONCE",
        "X-AI-GATEWAY-SIGNED-HEADERS",
        "X-AI-GATEWAY-SIGNATURE",
    }
    assert headers["X-AI-GATEWAY-SIGNED-HEADERS"] == SIGNED_HEADERS
    assert re.fullmatch(r"[a-z0-9]{8}", headers["X-AI-GATEWAY-NONCE"])
    assert abs(int(headers["X-AI-GATEWAY-TIMESTAMP"]) - time.time()) < 5
    assert len(headers["X-AI-GATEWAY-SIGNATURE"]) == 44
    assert APP_KEY not in str(headers)
    again = hmac_headers(APP_ID, APP_KEY, "POST", "/rerank")
    assert again["X-AI-GATEWAY-NONCE"] != headers["X-AI-GATEWAY-NONCE"]


def test_emulator_verifier_accepts_our_signature_and_rejects_tampering():
    params = {"requestId": "abc def/1"}
    headers = {k.lower(): v for k, v in hmac_headers(APP_ID, APP_KEY, "POST", "/x", params).items()}
    creds = {APP_ID: APP_KEY}
    assert verify("POST", "/x", params, headers, creds, 300) == "hmac"
    with pytest.raises(AuthFailure):
        verify("POST", "/x", {"requestId": "other"}, headers, creds, 300)
    with pytest.raises(AuthFailure):
        verify("POST", "/y", params, headers, creds, 300)
    with pytest.raises(AuthFailure):
        verify("POST", "/x", params, headers, {APP_ID: "wrong"}, 300)


def test_emulator_verifier_rejects_old_timestamps():
    old = hmac_headers(APP_ID, APP_KEY, "POST", "/x", None, timestamp=int(time.time()) - 600)
    headers = {k.lower(): v for k, v in old.items()}
    with pytest.raises(AuthFailure):
        verify("POST", "/x", {}, headers, {APP_ID: APP_KEY}, 300)
    assert verify("POST", "/x", {}, headers, {APP_ID: APP_KEY}, 900) == "hmac"


def test_bearer_headers():
    assert bearer_headers("key") == {"Authorization": "Bearer key"}
    assert bearer_headers("key", websocket=True) == {
        "Authorization": "Bearer key",
        "X-AI-GATEWAY-SIGNATURE": "developers-aigc",
    }
