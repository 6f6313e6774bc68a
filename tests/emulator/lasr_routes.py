"""Emulated long speech transcription (§6): a state machine keyed by ``audio_id`` and ``task_id``.

create → upload slices (file part *or* plain field) → run → progress advancing over
``state.lasr_polls_to_finish`` polls → result. The result is derived from the audio bytes received
(their count and SHA-256), so a test can tell whether every slice arrived intact and in order.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, Response

from tests.emulator.calls import Call, begin
from tests.emulator.state import EmulatorState

SLICE_LIMIT = 5 * 1024 * 1024
_USER_ID = re.compile(r"^[0-9a-z]{32}$")


def _answer(code: int = 0, data: dict[str, Any] | None = None, desc: str = "success") -> JSONResponse:
    return JSONResponse(
        {
            "sid": uuid.uuid4().hex,
            "action": "error" if code else "result",
            "data": data or {},
            "code": code,
            "desc": desc,
            "type": "asr",
        }
    )


def expected_sentences(audio: bytes) -> list[dict[str, Any]]:
    """What the emulator transcribes ``audio`` as (tests compute the same)."""
    digest = hashlib.sha256(audio).hexdigest()[:12]
    return [
        {"onebest": f"收到{len(audio)}字节音频。", "bg": 0, "ed": 1500, "speaker": 1},
        {"onebest": f"校验{digest}。", "bg": 1500, "ed": 3200, "speaker": 2},
    ]


def _common_error(query: dict[str, str]) -> str | None:
    """Check the URL parameters every step carries (§6.1); ``system_time`` in s or ms."""
    try:
        stamp = int(query.get("system_time", ""))
    except ValueError:
        return "system_time missing"
    seconds = stamp / 1000 if stamp > 10**11 else stamp
    if abs(time.time() - seconds) > 3600:
        return "system_time out of range"
    if query.get("engineid") != "fileasrrecorder" or not _USER_ID.match(query.get("user_id", "")):
        return "engineid or user_id invalid"
    if not query.get("client_version") or not query.get("package"):
        return "client_version and package are required"
    return None


async def _slice_bytes(request: Request) -> bytes | None:
    async with request.form(max_part_size=SLICE_LIMIT + 1024) as form:
        part = form.get("file")
        if isinstance(part, UploadFile):
            return await part.read()
        if isinstance(part, str):
            return _field_bytes(part)
        return None


def _field_bytes(value: str) -> bytes:
    """Undo Starlette's decoding of a plain field (UTF-8, or Latin-1 when that failed)."""
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")
    try:
        return raw if raw.decode("utf-8") == value else value.encode("utf-8")
    except UnicodeDecodeError:
        return raw


class LasrMachine:
    """The steps, each returning vivo's envelope."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def create(self, body: dict[str, Any]) -> JSONResponse:
        slice_num = body.get("slice_num")
        if body.get("audio_type") not in ("auto", "pcm") or not body.get("x-sessionId"):
            return _answer(10001, desc="create params invalid")
        if not isinstance(slice_num, int) or slice_num < 1:
            return _answer(10001, desc="slice_num invalid")
        if slice_num > 100:
            return _answer(10002, desc="slice_num exceeds 100")
        audio_id = uuid.uuid4().hex[:24]
        with self.state.lock:
            self.state.audios[audio_id] = {
                "session": body["x-sessionId"],
                "total": slice_num,
                "slices": {},
                "ran": False,
            }
        return _answer(data={"audio_id": audio_id})

    def upload(self, query: dict[str, str], chunk: bytes | None) -> JSONResponse:
        audio = self.state.audios.get(query.get("audio_id", ""))
        if audio is None or audio["session"] != query.get("x-sessionId"):
            return _answer(10101, desc="audio_id or x-sessionId invalid")
        try:
            index = int(query.get("slice_index", ""))
        except ValueError:
            return _answer(10101, desc="slice_index invalid")
        if not 0 <= index < audio["total"] or not chunk or len(chunk) > SLICE_LIMIT:
            return _answer(10101, desc="slice invalid")
        if audio["ran"]:
            return _answer(10106, desc="audio already submitted")
        audio["slices"][index] = chunk
        data = {"total": audio["total"], "slices": len(audio["slices"]), "audio_id": query["audio_id"]}
        if len(audio["slices"]) == audio["total"]:
            data["url"] = ""
        return _answer(data=data)

    def run(self, body: dict[str, Any]) -> JSONResponse:
        audio = self.state.audios.get(str(body.get("audio_id")))
        if audio is None or audio["session"] != body.get("x-sessionId"):
            return _answer(10201, desc="audio_id invalid")
        if len(audio["slices"]) != audio["total"]:
            return _answer(10202, desc="audio slices incomplete")
        audio["ran"] = True
        task_id = uuid.uuid4().hex[:24]
        joined = b"".join(audio["slices"][i] for i in range(audio["total"]))
        with self.state.lock:
            self.state.tasks[task_id] = {"session": audio["session"], "polls": 0, "audio": joined}
        return _answer(data={"task_id": task_id})

    def progress(self, body: dict[str, Any]) -> JSONResponse:
        task = self._task(body)
        if task is None:
            return _answer(10301, desc="task_id invalid")
        task["polls"] += 1
        steps = max(1, self.state.lasr_polls_to_finish)
        return _answer(data={"progress": min(100, task["polls"] * 100 // steps)})

    def result(self, body: dict[str, Any]) -> JSONResponse:
        task = self._task(body)
        if task is None:
            return _answer(10401, desc="task_id invalid")
        if task["polls"] < self.state.lasr_polls_to_finish:
            return _answer(10402, desc="task not finished")
        return _answer(data={"result": expected_sentences(task["audio"])})

    def _task(self, body: dict[str, Any]) -> dict[str, Any] | None:
        task = self.state.tasks.get(str(body.get("task_id")))
        if task is None or task["session"] != body.get("x-sessionId"):
            return None
        return task


def build_router(state: EmulatorState) -> APIRouter:
    router = APIRouter()
    machine = LasrMachine(state)

    @router.post("/lasr/{step}")
    async def lasr(step: str, request: Request) -> Response:
        call = await begin(state, request, f"lasr.{step}")
        if call.early is not None:
            return call.early
        if call.injected_code is not None:
            return _answer(call.injected_code, desc=call.injected_msg)
        problem = _common_error(call.record.query)
        if problem:
            return _answer(10000, desc=problem)
        if step == "upload":
            return machine.upload(call.record.query, await _slice_bytes(request))
        handler = {
            "create": machine.create,
            "run": machine.run,
            "progress": machine.progress,
            "result": machine.result,
        }.get(step)
        if handler is None:
            return JSONResponse({"message": "not found"}, status_code=404)
        return handler(_json_body(call))

    return router


def _json_body(call: Call) -> dict[str, Any]:
    try:
        body = call.record.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
