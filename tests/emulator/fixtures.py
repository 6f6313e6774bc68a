"""Pytest fixtures for suites that need the vivo emulator.

Enable them with ``pytest_plugins = ["tests.emulator.fixtures"]`` in a conftest. The emulator is
started once per session; each test gets a clean request log and no leftover injections.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator.vivo_emulator import VivoEmulator
from vivo import VivoSettings


@pytest.fixture(scope="session")
def vivo_emulator_session() -> Iterator[VivoEmulator]:
    with VivoEmulator() as emulator:
        yield emulator


@pytest.fixture
def vivo_emulator(vivo_emulator_session: VivoEmulator) -> Iterator[VivoEmulator]:
    """The running emulator, with injections and the request log cleared around the test."""
    vivo_emulator_session.clear()
    yield vivo_emulator_session
    vivo_emulator_session.clear()


@pytest.fixture
def vivo_settings(vivo_emulator: VivoEmulator) -> VivoSettings:
    """Client settings pointing at the emulator, with short timeouts and fast backoff."""
    return VivoSettings(
        app_id=vivo_emulator.app_id,
        app_key=vivo_emulator.app_key,
        base_url=vivo_emulator.base_url,
        timeout_s=5.0,
        connect_timeout_s=2.0,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
    )
