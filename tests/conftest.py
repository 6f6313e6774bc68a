"""Shared fixtures: a real S3 server process, object stores of both backends."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.helpers.s3server import S3Server

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server().start()
    saved = {k: os.environ.get(k) for k in server.env()}
    os.environ.update(server.env())
    yield server
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path):
    """The same contract runs against both backends; S3 talks HTTP to a moto_server process."""
    from storage import open_store

    if request.param == "local":
        return open_store("local", root=str(tmp_path / "store"))
    server = request.getfixturevalue("s3_server")
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    return open_store("s3", bucket=bucket, endpoint_url=server.endpoint_url, create_bucket=True)
