"""API keys, CORS, rate limits and upload bounds on the real FastAPI app, without Ray."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from deployments.api import create_api
from deployments.config import AppArgs
from deployments.errors import ServiceUnavailable
from deployments.ratelimit import Buckets, SharedRateLimiter
from deployments.security import ApiKeys, UploadSlots

pytestmark = pytest.mark.unit

KEY = "k-0123456789abcdef-alpha"
OTHER = "k-0123456789abcdef-bravo"


def test_keys_are_read_from_env_and_file_and_kept_hashed(tmp_path):
    secret_file = tmp_path / "keys"
    secret_file.write_text(f"# our clients\n{OTHER}\n\n")
    keys = ApiKeys.from_environment(
        {"AURALAB_API_KEYS": f" {KEY} ,", "AURALAB_API_KEYS_FILE": str(secret_file)}
    )
    assert len(keys) == 2
    assert keys.identify(KEY) and keys.identify(OTHER)
    assert keys.identify(KEY) != keys.identify(OTHER)
    assert keys.identify(KEY + "x") is None and keys.identify("") is None
    assert KEY not in repr(keys) and KEY not in str(vars(keys))
    assert hashlib.sha256(KEY.encode()).digest() in vars(keys)["_digests"]


def test_short_keys_are_refused():
    with pytest.raises(ValueError, match="at least 16"):
        ApiKeys(["short"])


def test_required_keys_without_any_configured_fail_at_start(monkeypatch):
    monkeypatch.delenv("AURALAB_API_KEYS", raising=False)
    monkeypatch.delenv("AURALAB_API_KEYS_FILE", raising=False)
    with pytest.raises(RuntimeError, match="AURALAB_API_KEYS"):
        create_api(AppArgs.model_validate({"security": {"require_api_key": True}}))


def test_auth_off_logs_one_loud_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="ray.serve"):
        create_api(AppArgs())
    warnings = [r for r in caplog.records if "API keys are OFF" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


def test_missing_and_invalid_keys_get_401_in_our_shape(monkeypatch):
    monkeypatch.setenv("AURALAB_API_KEYS", KEY)
    client = TestClient(create_api(AppArgs.model_validate({"security": {"require_api_key": True}})))
    wrong = "Bearer not-the-key-but-long-enough"
    for headers in ({}, {"Authorization": wrong}, {"Authorization": f"Basic {KEY}"}):
        response = client.get("/test", headers=headers)
        assert response.status_code == 401, headers
        body = response.json()
        assert body["success"] is False and body["error"] == "unauthorized"
        assert body["request_id"] == response.headers["x-request-id"]
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "not-the-key" not in response.text and KEY not in response.text
    assert client.get("/test", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert client.get("/test", headers={"Authorization": f"bearer  {KEY} "}).status_code == 200


def test_health_stays_open_when_keys_are_required(monkeypatch):
    monkeypatch.setenv("AURALAB_API_KEYS", KEY)
    client = TestClient(create_api(AppArgs.model_validate({"security": {"require_api_key": True}})))
    assert client.get("/health").status_code == 200
    assert client.get("/bluelm/health").status_code == 200
    assert client.get("/openapi.json").status_code == 401


def test_cors_allows_only_configured_origins(monkeypatch):
    monkeypatch.setenv("AURALAB_API_KEYS", KEY)
    security = {"require_api_key": True, "cors_origins": ["https://app.auralab.example"]}
    client = TestClient(create_api(AppArgs.model_validate({"security": security})))
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    ok = client.options("/whisperx/process", headers={"Origin": "https://app.auralab.example", **preflight})
    bad = client.options("/whisperx/process", headers={"Origin": "https://evil.example", **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://app.auralab.example"
    assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers
    refused = client.get("/test", headers={"Origin": "https://app.auralab.example"})
    assert refused.status_code == 401  # a browser can read why: the refusal carries CORS headers
    assert refused.headers["access-control-allow-origin"] == "https://app.auralab.example"


def test_wildcard_cors_with_keys_is_refused_by_config():
    with pytest.raises(ValueError, match="cors_origins"):
        AppArgs.model_validate({"security": {"require_api_key": True, "cors_origins": ["*"]}})


def test_token_bucket_allows_the_burst_then_the_rate():
    buckets = Buckets()
    rate = 1.0  # per second
    assert [buckets.take("a", rate, 3, now=100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = buckets.take("a", rate, 3, now=100.0)
    assert wait == pytest.approx(1.0)
    assert buckets.take("b", rate, 3, now=100.0) == 0.0  # another key has its own bucket
    assert buckets.take("a", rate, 3, now=101.01) == 0.0
    assert buckets.take("a", rate, 3, now=101.02) > 0.9


def test_buckets_stay_bounded():
    buckets = Buckets(max_keys=100)
    for i in range(1000):
        buckets.take(f"k{i}", 1.0, 5, now=float(i))
    assert len(buckets) <= 100


def test_rate_limit_answers_429_with_retry_after_per_key(monkeypatch):
    monkeypatch.setenv("AURALAB_API_KEYS", f"{KEY},{OTHER}")
    security = {"require_api_key": True, "rate_limit_per_minute": 6, "rate_limit_burst": 2}
    client = TestClient(create_api(AppArgs.model_validate({"security": security})))
    auth = {"Authorization": f"Bearer {KEY}"}
    codes = [client.get("/test", headers=auth).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    limited = client.get("/test", headers=auth)
    assert limited.json()["error"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 10
    assert client.get("/test", headers={"Authorization": f"Bearer {OTHER}"}).status_code == 200
    assert client.get("/health").status_code == 200  # probes are never limited


def test_rate_limit_is_per_client_ip_when_keys_are_off():
    client = TestClient(
        create_api(AppArgs.model_validate({"security": {"rate_limit_per_minute": 60, "rate_limit_burst": 1}}))
    )
    assert [client.get("/test").status_code for _ in range(2)] == [200, 429]


def test_limiter_falls_back_to_local_buckets_without_ray():
    limiter = SharedRateLimiter(per_minute=60, burst=1, actor_name="x", use_ray=False)
    assert asyncio.run(limiter.retry_after("k")) == 0.0
    assert asyncio.run(limiter.retry_after("k")) > 0


def test_upload_slots_refuse_past_the_limit_and_free_on_exit():
    slots = UploadSlots(2)
    with slots.hold(), slots.hold():
        with pytest.raises(ServiceUnavailable) as refused, slots.hold():
            pass
        assert refused.value.retry_after >= 1
    assert slots.active == 0
    with slots.hold():
        assert slots.active == 1


def test_a_slow_upload_times_out_with_408():
    from deployments.errors import classify
    from deployments.tasks_api import receive_audio

    class SlowRequest:
        def __init__(self):
            self.headers = {"content-type": "multipart/form-data; boundary=xyz"}
            self.app = SimpleNamespace(state=SimpleNamespace(upload_slots=UploadSlots(1)))

        async def stream(self):
            yield b"--xyz\r\n"
            await asyncio.sleep(5)
            yield b"never"

    args = AppArgs.model_validate({"limits": {"upload_timeout_s": 0.2}})
    request = SlowRequest()
    with pytest.raises(Exception) as caught:
        asyncio.run(receive_audio(request, SimpleNamespace(args=args)))  # type: ignore[arg-type]
    assert classify(caught.value)[:2] == (408, "upload_timeout")
    assert request.app.state.upload_slots.active == 0
