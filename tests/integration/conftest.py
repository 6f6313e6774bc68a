"""A real local Ray Serve application for the integration tests, shared by the whole session.

It runs against a real S3 server process (moto_server over HTTP) and the vivo emulator (a real
HTTP/WebSocket server), both on loopback, with short leases so takeover tests stay quick.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.helpers.s3server import S3Server, free_port

APP_NAME = "auralab"
TEST_APP_ID = "2025000001"
TEST_APP_KEY = "AbCdEfGhIjKlMnOp-test-secret-key"


def app_args_for_tests(s3: S3Server, bucket: str) -> dict:
    return {
        "storage": {"backend": "s3", "bucket": bucket, "endpoint_url": s3.endpoint_url},
        "models": {
            "served": [
                {
                    "model": "base",
                    "device": "cpu",
                    "compute_type": "int8",
                    "max_batch_size": 8,
                    "batch_wait_timeout_s": 0.1,
                }
            ]
        },
        "runner": {
            "max_concurrent_tasks": 8,
            "lease_timeout_s": 8,
            "heartbeat_interval_s": 1,
            "scan_interval_s": 0.5,
            "max_attempts": 3,
        },
        "limits": {"max_upload_mb": 5, "max_audio_duration_s": 600},
    }


@dataclass
class ServeApp:
    url: str
    s3: S3Server
    emulator: object
    bucket: str
    metrics_url: str

    def client(self, timeout: float = 60.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)


@pytest.fixture(scope="session")
def vivo_emulator() -> Iterator[object]:
    from tests.emulator.vivo_emulator import VivoEmulator

    emulator = VivoEmulator(app_id=TEST_APP_ID, app_key=TEST_APP_KEY).start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def serve_app(s3_server: S3Server, vivo_emulator) -> Iterator[ServeApp]:
    import ray
    from ray import serve

    from deployments.app import build_app
    from deployments.config import AppArgs

    env = {
        **s3_server.env(),
        "VIVO_BASE_URL": vivo_emulator.base_url,
        "APPID": TEST_APP_ID,
        "APPKEY": TEST_APP_KEY,
        "HF_HUB_OFFLINE": "1",
        "RAY_AUTH_MODE": "disabled",
    }
    os.environ.update(env)  # the local Ray cluster started below inherits this environment
    port, metrics_port = free_port(), free_port()
    ray.init(
        num_cpus=8,
        include_dashboard=False,
        _metrics_export_port=metrics_port,
        _system_config={"metrics_report_interval_ms": 1000},
        logging_level="WARNING",
    )
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    bucket = "auralab-it"
    args = AppArgs.model_validate(app_args_for_tests(s3_server, bucket))
    serve.run(build_app(args), name=APP_NAME, route_prefix="/")
    url = f"http://127.0.0.1:{port}"
    _wait_healthy(url)
    yield ServeApp(
        url=url,
        s3=s3_server,
        emulator=vivo_emulator,
        bucket=bucket,
        metrics_url=f"http://127.0.0.1:{metrics_port}/metrics",
    )
    serve.shutdown()
    ray.shutdown()


def _wait_healthy(url: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the Serve app did not become healthy")


def wait_for_status(
    client: httpx.Client,
    task_id: str,
    statuses: set[str],
    timeout_s: float = 300.0,
    route: str = "/whisperx/status/",
) -> dict:
    """Poll a task like the app does, until it reaches one of ``statuses`` (bounded)."""
    deadline = time.monotonic() + timeout_s
    body: dict = {}
    while time.monotonic() < deadline:
        body = client.get(f"{route}{task_id}").json()
        if body.get("status") in statuses:
            return body
        time.sleep(0.5)
    raise AssertionError(f"task {task_id} stuck at {body.get('status')}: {body.get('message')}")
