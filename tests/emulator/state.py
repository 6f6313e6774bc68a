"""Shared state of the vivo emulator: credentials, injected faults, the request log.

The server runs in its own thread, tests in theirs, so everything mutable is guarded by one lock.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Injection:
    """A fault served instead of (or before) the normal answer, for the next ``times`` calls.

    ``target`` is a capability name (``chat``, ``chat.stream``, ``tts``, ``lasr.run``, ``translate``,
    ``ocr``, ``rerank``...), a prefix of one (``lasr`` matches every LASR step, ``chat`` also the
    stream) or ``*`` for everything.
    """

    target: str = "*"
    times: int = 1
    code: int | None = None
    msg: str | None = None
    http_status: int | None = None
    delay_s: float = 0.0
    drop_websocket: bool = False
    after_pieces: int = 0

    def matches(self, capability: str) -> bool:
        return self.target in ("*", capability) or capability.startswith(self.target + ".")


@dataclass
class RecordedRequest:
    """What the emulator received for one call, so tests can assert what the client sent."""

    capability: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    auth: str | None = None  # "hmac", "bearer" or None when rejected
    frames: list[dict[str, Any]] = field(default_factory=list)  # TTS request frames
    at: float = field(default_factory=time.time)

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))

    def raw(self) -> str:
        """Everything sent, as one text (for "the key never leaks" style assertions)."""
        frames = json.dumps(self.frames, ensure_ascii=False)
        return f"{self.method} {self.path} {self.query} {self.headers} {self.body!r} {frames}"


class EmulatorState:
    """Mutable state shared between the server thread and the test thread."""

    def __init__(self, credentials: dict[str, str], max_skew_s: float) -> None:
        self.lock = threading.Lock()
        self.credentials = dict(credentials)
        self.max_skew_s = max_skew_s
        self.injections: list[Injection] = []
        self.requests: list[RecordedRequest] = []
        self.audios: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.lasr_polls_to_finish = 3
        self.tts_samples_per_char = 2400  # 0.1 s of 24 kHz audio per character of text
        self.stream_piece_chars = 3
        self.open_websockets = 0

    def take(self, capability: str) -> Injection | None:
        """Consume one use of the first injection matching ``capability``."""
        with self.lock:
            for injection in self.injections:
                if injection.matches(capability):
                    injection.times -= 1
                    if injection.times <= 0:
                        self.injections.remove(injection)
                    return injection
        return None

    def record(self, request: RecordedRequest) -> RecordedRequest:
        with self.lock:
            self.requests.append(request)
        return request
