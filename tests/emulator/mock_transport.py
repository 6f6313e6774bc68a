"""Scripted ``httpx.MockTransport`` for unit tests: queue answers, then inspect what was sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from vivo import VivoClient, VivoSettings

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]

APP_ID = "2025000001"
APP_KEY = "unitTestKey-0123456789"


class ScriptedVivo:
    """Answers requests from a queue (the last answer repeats) and records every request."""

    def __init__(self, *answers: Answer) -> None:
        self.answers: list[Answer] = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    def client(self, **settings: Any) -> VivoClient:
        options: dict[str, Any] = {
            "app_id": APP_ID,
            "app_key": APP_KEY,
            "base_url": "https://vivo.test",
            "backoff_base_s": 0.0,
            "backoff_max_s": 0.0,
        }
        options.update(settings)
        return VivoClient(VivoSettings(**options), transport=httpx.MockTransport(self))

    def json_body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def ok(payload: Any, status: int = 200) -> httpx.Response:
    """A JSON answer."""
    return httpx.Response(status, json=payload)


def chat_ok(content: str = "hi") -> httpx.Response:
    return ok({"code": 0, "data": {"content": content, "sessionId": "s", "requestId": "r"}, "msg": "done."})


def sse(text: str) -> httpx.Response:
    return httpx.Response(200, content=text.encode(), headers={"content-type": "text/event-stream"})
