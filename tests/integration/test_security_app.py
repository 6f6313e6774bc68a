"""Access control on a real Serve app: a second application in the session cluster, two gateway
replicas with API keys required and a rate limit that must hold across both replicas."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

pytestmark = pytest.mark.integration

SECURE_APP = "auralab-secure"
KEY = "it-key-0123456789abcdef"
BURST = 4


@pytest.fixture(scope="module")
def secure_url(serve_app):
    from ray import serve

    from deployments.config import AppArgs
    from deployments.gateway import Gateway
    from tests.integration.conftest import app_args_for_tests

    args = app_args_for_tests(serve_app.s3, serve_app.bucket)
    args["security"] = {
        "require_api_key": True,
        "cors_origins": ["https://app.auralab.example"],
        "rate_limit_per_minute": 30,
        "rate_limit_burst": BURST,
    }
    env = {**serve_app.s3.env(), "AURALAB_API_KEYS": f"{KEY},another-key-0123456789"}
    gateway = Gateway.options(
        num_replicas=2, ray_actor_options={"num_cpus": 0.1, "runtime_env": {"env_vars": env}}
    )
    serve.run(gateway.bind(AppArgs.model_validate(args)), name=SECURE_APP, route_prefix="/secure")
    url = serve_app.url + "/secure"
    deadline = time.monotonic() + 60
    while httpx.get(url + "/health", timeout=5).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    yield url
    serve.delete(SECURE_APP)


def test_keys_are_required_but_health_is_open(secure_url):
    with httpx.Client(base_url=secure_url, timeout=30) as client:
        assert client.get("/health").status_code == 200
        missing = client.get("/whisperx/tasks")
        wrong = client.get("/whisperx/tasks", headers={"Authorization": "Bearer wrong-key-0123456789abc"})
        ok = client.get("/whisperx/tasks", headers={"Authorization": f"Bearer {KEY}"})
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "wrong-key" not in response.text
    assert ok.status_code == 200, ok.text


def test_the_rate_limit_holds_across_gateway_replicas(secure_url):
    import ray

    from tests.helpers.faults import replica_actor_names

    assert len(replica_actor_names(SECURE_APP, "Gateway")) == 2
    key = "another-key-0123456789"
    with httpx.Client(base_url=secure_url, timeout=30) as client:
        codes, retry_after = [], []
        for _ in range(16):
            response = client.get("/test", headers={"Authorization": f"Bearer {key}"})
            codes.append(response.status_code)
            if response.status_code == 429:
                assert response.json()["error"] == "rate_limited"
                retry_after.append(int(response.headers["retry-after"]))
    accepted = codes.count(200)
    # One shared bucket: the burst plus what refills (0.5/s) while we send. Per-replica buckets
    # would let up to twice the burst through.
    assert BURST <= accepted <= BURST + 2, codes
    assert codes.count(429) == len(codes) - accepted and all(1 <= r <= 5 for r in retry_after)
    names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)]
    assert f"auralab-ratelimiter-{SECURE_APP}" in names


def test_two_limiter_clients_share_one_budget(serve_app):
    """The same check without HTTP: two replicas' limiter clients, one actor."""
    from deployments.ratelimit import SharedRateLimiter

    name = "auralab-ratelimiter-it-direct"
    first, second = (SharedRateLimiter(per_minute=6, burst=3, actor_name=name) for _ in range(2))

    async def take_turns() -> list[float]:
        return [await (first if i % 2 else second).retry_after("key:shared") for i in range(6)]

    waits = asyncio.run(take_turns())
    assert [w == 0.0 for w in waits] == [True, True, True, False, False, False], waits


def test_cors_preflight_and_refusals_carry_cors_headers(secure_url):
    origin = {"Origin": "https://app.auralab.example"}
    with httpx.Client(base_url=secure_url, timeout=30) as client:
        preflight = client.options(
            "/whisperx/process", headers={**origin, "Access-Control-Request-Method": "POST"}
        )
        refused = client.get("/whisperx/tasks", headers=origin)
        evil = client.get("/whisperx/tasks", headers={"Origin": "https://evil.example"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin["Origin"]
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == origin["Origin"]
    assert "access-control-allow-origin" not in evil.headers
