"""Signing per request, safe retries, error mapping and secret hygiene of the shared transport."""

from __future__ import annotations

import httpx
import pytest

from tests.emulator.auth_check import verify
from tests.emulator.mock_transport import APP_ID, APP_KEY, ScriptedVivo, chat_ok, ok
from vivo import (
    VivoAuthError,
    VivoNotConfigured,
    VivoQuotaExceeded,
    VivoRateLimited,
    VivoUnavailable,
)

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]
MESSAGES = [{"role": "user", "content": "hi"}]


def _verified(request: httpx.Request) -> str:
    headers = {k.lower(): v for k, v in request.headers.items()}
    query = dict(request.url.params)
    return verify(request.method, request.url.path, query, headers, {APP_ID: APP_KEY}, 300)


async def test_every_attempt_is_signed_afresh_and_verifies():
    vivo = ScriptedVivo(ok({}, 503), chat_ok())
    async with vivo.client() as client:
        reply = await client.chat(MESSAGES)
    assert reply.content == "hi"
    assert len(vivo.requests) == 2
    assert all(_verified(r) == "hmac" for r in vivo.requests)
    nonces = {r.headers["x-ai-gateway-nonce"] for r in vivo.requests}
    assert len(nonces) == 2


async def test_bearer_mode_sends_the_key_as_token():
    vivo = ScriptedVivo(chat_ok())
    async with vivo.client(auth="bearer") as client:
        await client.chat(MESSAGES)
    assert vivo.requests[0].headers["authorization"] == f"Bearer {APP_KEY}"
    assert "x-ai-gateway-signature" not in vivo.requests[0].headers


async def test_rate_limit_code_is_retried_then_surfaces():
    limited = ok({"code": 30001, "data": {}, "msg": "hit model rate limit"})
    vivo = ScriptedVivo(limited)
    async with vivo.client(max_retries=2) as client:
        with pytest.raises(VivoRateLimited) as info:
            await client.chat(MESSAGES)
    assert len(vivo.requests) == 3
    assert info.value.status == 503 and info.value.vivo_code == 30001


async def test_quota_is_not_retried():
    vivo = ScriptedVivo(ok({"code": 2003, "data": {}, "msg": "today usage limit"}))
    async with vivo.client(max_retries=3) as client:
        with pytest.raises(VivoQuotaExceeded):
            await client.chat(MESSAGES)
    assert len(vivo.requests) == 1


async def test_lasr_run_is_never_resent_after_a_5xx():
    vivo = ScriptedVivo(ok({"message": "boom"}, 502), ok({"code": 0, "data": {"task_id": "t"}}))
    async with vivo.client(max_retries=3) as client:
        with pytest.raises(VivoUnavailable):
            await client.transport.request_json("/lasr/run", json={}, idempotent=False)
    assert len(vivo.requests) == 1


async def test_lasr_run_is_never_resent_after_a_read_timeout():
    vivo = ScriptedVivo(httpx.ReadTimeout("slow"), ok({"code": 0}))
    async with vivo.client(max_retries=3) as client:
        with pytest.raises(VivoUnavailable, match="did not answer"):
            await client.transport.request_json("/lasr/run", json={}, idempotent=False)
    assert len(vivo.requests) == 1


async def test_connect_errors_are_retried_even_for_non_idempotent_calls():
    vivo = ScriptedVivo(httpx.ConnectError("refused"), ok({"code": 0, "data": {"task_id": "t"}}))
    async with vivo.client(max_retries=1) as client:
        body = await client.transport.request_json("/lasr/run", json={}, idempotent=False)
    assert body["data"]["task_id"] == "t"
    assert len(vivo.requests) == 2


async def test_connect_errors_give_unavailable_when_retries_run_out():
    vivo = ScriptedVivo(httpx.ConnectError("refused"))
    async with vivo.client(max_retries=1) as client:
        with pytest.raises(VivoUnavailable, match="cannot reach vivo"):
            await client.chat(MESSAGES)
    assert len(vivo.requests) == 2


async def test_http_401_maps_to_auth_error_without_retry():
    vivo = ScriptedVivo(ok({"message": "invalid api-key"}, 401))
    async with vivo.client() as client:
        with pytest.raises(VivoAuthError, match="invalid api-key"):
            await client.chat(MESSAGES)
    assert len(vivo.requests) == 1


async def test_not_configured_fails_before_sending():
    vivo = ScriptedVivo(chat_ok())
    async with vivo.client(app_id="", app_key="") as client:
        with pytest.raises(VivoNotConfigured):
            await client.chat(MESSAGES)
    assert vivo.requests == []


async def test_per_call_credentials_sign_with_the_callers_account():
    vivo = ScriptedVivo(chat_ok())
    async with vivo.client() as client:
        pool = client.transport
        await client.chat(MESSAGES, credentials=("caller-app", "caller-key"))
        assert client.transport is pool
    request = vivo.requests[0]
    assert request.headers["x-ai-gateway-app-id"] == "caller-app"
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert verify(
        "POST", request.url.path, dict(request.url.params), headers, {"caller-app": "caller-key"}, 300
    )


async def test_app_key_echoed_by_vivo_never_reaches_the_error():
    vivo = ScriptedVivo(ok({"code": 1001, "data": {}, "msg": f"bad key {APP_KEY} for app"}))
    async with vivo.client() as client:
        with pytest.raises(Exception) as info:
            await client.chat(MESSAGES)
    assert APP_KEY not in str(info.value) and "***" in str(info.value)


async def test_app_key_never_sent_in_hmac_mode():
    vivo = ScriptedVivo(chat_ok())
    async with vivo.client() as client:
        await client.chat(MESSAGES)
    request = vivo.requests[0]
    assert APP_KEY not in str(request.url) + str(request.headers) + request.content.decode()


async def test_client_closes_its_pool():
    vivo = ScriptedVivo(chat_ok())
    client = vivo.client()
    await client.aclose()
    assert client.transport.closed
