"""A real vivo AI platform emulator: FastAPI served by uvicorn on 127.0.0.1, in a background thread.

It speaks VIVO_PROTOCOL.md over real HTTP and WebSocket (signatures verified), answers
deterministically, keeps a log of every request and can inject faults for the next N calls::

    with VivoEmulator() as emu:
        settings = VivoSettings(app_id=emu.app_id, app_key=emu.app_key, base_url=emu.base_url)
        emu.inject("chat", code=30001, msg="hit model rate limit")
        ...
        assert emu.requests[-1].query["requestId"]

Run ``python -m tests.emulator.vivo_emulator --port 8765`` to poke at it by hand.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI

from tests.emulator import chat_routes, lasr_routes, text_routes, tts_routes
from tests.emulator.state import EmulatorState, Injection, RecordedRequest

DEFAULT_APP_ID = "2025000001"
DEFAULT_APP_KEY = "emulatorKey-9f8e7d6c5b4a"


def build_app(state: EmulatorState) -> FastAPI:
    """The emulator's ASGI app over ``state`` (usable with any ASGI server)."""
    app = FastAPI(title="vivo emulator", docs_url=None, redoc_url=None, openapi_url=None)
    for module in (chat_routes, text_routes, lasr_routes, tts_routes):
        app.include_router(module.build_router(state))
    return app


class VivoEmulator:
    """Start/stop a vivo emulator on a free loopback port; inspect and steer it from tests."""

    def __init__(
        self,
        app_id: str = DEFAULT_APP_ID,
        app_key: str = DEFAULT_APP_KEY,
        *,
        max_skew_s: float = 300.0,
        port: int = 0,
    ) -> None:
        self.app_id = app_id
        self.app_key = app_key
        self.state = EmulatorState({app_id: app_key}, max_skew_s)
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def __repr__(self) -> str:
        return f"VivoEmulator(base_url={self.base_url if self._server else None!r}, app_id={self.app_id!r})"

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout_s: float = 10.0) -> VivoEmulator:
        """Bind 127.0.0.1 (a free port unless one was given) and serve in a daemon thread."""
        if self._server is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_app(self.state),
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
            timeout_graceful_shutdown=1,
            ws_ping_interval=None,
        )
        self._server = uvicorn.Server(config)
        self._socket = sock
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="vivo-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the vivo emulator did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Shut the server down; its port refuses connections afterwards."""
        if self._server is None:
            return
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(timeout_s)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> VivoEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: give it to ``VivoSettings(base_url=...)``."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    # --- steering ----------------------------------------------------------------------------

    def inject(
        self,
        target: str = "*",
        *,
        times: int = 1,
        code: int | None = None,
        msg: str | None = None,
        http_status: int | None = None,
        delay_s: float = 0.0,
        drop_websocket: bool = False,
        after_pieces: int = 0,
    ) -> Injection:
        """Make the next ``times`` calls of ``target`` fail or stall.

        ``code``: answer with that vivo business code (in the capability's own envelope; for the
        SSE stream an ``event:error``/``event:antispam`` after ``after_pieces`` pieces; for TTS an
        error frame). ``http_status``: answer that HTTP status instead (TTS: handshake refused).
        ``delay_s``: wait before answering. ``drop_websocket``: TTS closes after the first frame.
        """
        injection = Injection(
            target=target,
            times=times,
            code=code,
            msg=msg,
            http_status=http_status,
            delay_s=delay_s,
            drop_websocket=drop_websocket,
            after_pieces=after_pieces,
        )
        with self.state.lock:
            self.state.injections.append(injection)
        return injection

    def clear(self) -> None:
        """Forget injections and the request log (state of LASR jobs is kept)."""
        with self.state.lock:
            self.state.injections.clear()
            self.state.requests.clear()

    def add_credentials(self, app_id: str, app_key: str) -> None:
        """Accept another app (e.g. for per-call credential overrides)."""
        with self.state.lock:
            self.state.credentials[app_id] = app_key

    def set_options(self, **options: Any) -> None:
        """Tune behaviour: ``lasr_polls_to_finish``, ``tts_samples_per_char``, ``stream_piece_chars``,
        ``max_skew_s``."""
        with self.state.lock:
            for name, value in options.items():
                if not hasattr(self.state, name) or name in ("lock", "requests", "injections"):
                    raise AttributeError(f"unknown emulator option {name!r}")
                setattr(self.state, name, value)

    # --- inspection --------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, oldest first."""
        with self.state.lock:
            return list(self.state.requests)

    def requests_for(self, capability: str) -> list[RecordedRequest]:
        """Requests of one capability (``lasr`` matches every LASR step)."""
        return [
            r
            for r in self.requests
            if r.capability == capability or r.capability.startswith(capability + ".")
        ]

    @property
    def open_websockets(self) -> int:
        """TTS connections currently open on the server side (0 means nothing leaked)."""
        return self.state.open_websockets

    def tts_pcm_bytes(self, text: str) -> int:
        """How many PCM bytes the emulator synthesizes for ``text``."""
        return len(text) * self.state.tts_samples_per_char * 2


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the vivo emulator on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--app-id", default=DEFAULT_APP_ID)
    parser.add_argument("--app-key", default=DEFAULT_APP_KEY)
    args = parser.parse_args()
    with VivoEmulator(args.app_id, args.app_key, port=args.port) as emu:
        print(f"vivo emulator on {emu.base_url} (APPID={emu.app_id}; APPKEY as given)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
