"""A local vivo AI platform emulator (real HTTP + WebSocket server on loopback) for tests."""

from tests.emulator.vivo_emulator import VivoEmulator

__all__ = ["VivoEmulator"]
