"""Long speech transcription (长语音转写, LASR): vivo's five-step HTTP flow (§6).

create (announce the slice count) → upload each ≤5 MiB slice → run → poll progress → fetch result.
``create`` and ``run`` start work on vivo's side and are never re-sent once they may have arrived;
slice uploads (keyed by index), progress and result are safe to repeat. :func:`start` returns a
:class:`LasrJob` whose ids a task runner can store, so :func:`wait` can resume after a restart.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vivo.errors import VivoBadRequest, VivoUnavailable, VivoUpstreamError, error_from_code
from vivo.transport import VivoTransport

SLICE_BYTES = 5 * 1024 * 1024
MAX_SLICES = 100
MAX_AUDIO_BYTES = 500 * 1000 * 1000
ENGINE_ID = "fileasrrecorder"
# Seen from a third-party client as success on upload; most likely "slice already uploaded".
_ALREADY_UPLOADED = 20005
_MESSAGE_KEYS = ("desc", "msg")

AudioSource = bytes | str | os.PathLike[str]
ProgressCallback = Callable[[int], Awaitable[None] | None]


@dataclass(frozen=True)
class LasrSentence:
    """One recognised sentence: text, begin/end in milliseconds, speaker label (when vivo gives one)."""

    onebest: str
    bg: int
    ed: int
    speaker: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LasrJob:
    """The ids of a submitted transcription; enough to poll it from any process."""

    session_id: str
    audio_id: str
    task_id: str


def common_params(user_id: str) -> dict[str, str]:
    """URL parameters every LASR step carries (§6.1); ``system_time`` in milliseconds."""
    return {
        "client_version": "2.0",
        "package": "pack",
        "user_id": user_id,
        "system_time": str(int(time.time() * 1000)),
        "engineid": ENGINE_ID,
        "requestId": str(uuid.uuid4()),
    }


async def _call(
    transport: VivoTransport,
    step: str,
    body: dict[str, Any] | None = None,
    *,
    extra_params: dict[str, str] | None = None,
    files: dict[str, Any] | None = None,
    idempotent: bool,
    credentials: tuple[str, str] | None,
) -> dict[str, Any]:
    params = {**common_params(transport.settings.lasr_user_id), **(extra_params or {})}
    answer = await transport.request_json(
        f"/lasr/{step}",
        params=params,
        json=body,
        files=files,
        idempotent=idempotent,
        credentials=credentials,
        code_key=None if step == "upload" else "code",
        message_keys=_MESSAGE_KEYS,
    )
    data = answer.get("data")
    if not isinstance(data, dict):
        data = {}
    return {**answer, "data": data}


async def create(
    transport: VivoTransport,
    slice_num: int,
    session_id: str,
    *,
    audio_type: str = "auto",
    credentials: tuple[str, str] | None = None,
) -> str:
    """Announce an audio of ``slice_num`` slices; returns vivo's ``audio_id``."""
    body = {"audio_type": audio_type, "x-sessionId": session_id, "slice_num": slice_num}
    answer = await _call(transport, "create", body, idempotent=False, credentials=credentials)
    return _required(answer, "audio_id", "create")


async def upload_slice(
    transport: VivoTransport,
    audio_id: str,
    session_id: str,
    index: int,
    chunk: bytes,
    *,
    credentials: tuple[str, str] | None = None,
) -> None:
    """Upload slice ``index`` (0-based) as the multipart file part ``file``."""
    params = {"audio_id": audio_id, "x-sessionId": session_id, "slice_index": str(index)}
    files = {"file": (f"slice_{index}.bin", chunk, "application/octet-stream")}
    answer = await _call(
        transport,
        "upload",
        extra_params=params,
        files=files,
        idempotent=True,
        credentials=credentials,
    )
    code = answer.get("code", 0)
    if code not in (0, _ALREADY_UPLOADED, None):
        raise error_from_code(int(code), str(answer.get("desc") or answer.get("msg") or ""))


async def run(
    transport: VivoTransport,
    audio_id: str,
    session_id: str,
    *,
    credentials: tuple[str, str] | None = None,
) -> str:
    """Start recognition of an uploaded audio; returns vivo's ``task_id``."""
    body = {"audio_id": audio_id, "x-sessionId": session_id}
    answer = await _call(transport, "run", body, idempotent=False, credentials=credentials)
    return _required(answer, "task_id", "run")


async def progress(
    transport: VivoTransport, job: LasrJob, *, credentials: tuple[str, str] | None = None
) -> int:
    """The task's progress, 0–100 (100 = result ready)."""
    body = {"task_id": job.task_id, "x-sessionId": job.session_id}
    answer = await _call(transport, "progress", body, idempotent=True, credentials=credentials)
    value = answer["data"].get("progress")
    if not isinstance(value, (int, float)):
        raise VivoUpstreamError("vivo LASR progress answered without a progress value")
    return max(0, min(100, int(value)))


async def result(
    transport: VivoTransport, job: LasrJob, *, credentials: tuple[str, str] | None = None
) -> list[LasrSentence]:
    """The recognised sentences of a finished task."""
    body = {"task_id": job.task_id, "x-sessionId": job.session_id}
    answer = await _call(transport, "result", body, idempotent=True, credentials=credentials)
    items = answer["data"].get("result")
    if not isinstance(items, list):
        raise VivoUpstreamError("vivo LASR result answered without a result list")
    return [_sentence(item) for item in items if isinstance(item, dict)]


async def start(
    transport: VivoTransport,
    audio: AudioSource,
    *,
    audio_type: str = "auto",
    slice_bytes: int = SLICE_BYTES,
    credentials: tuple[str, str] | None = None,
) -> LasrJob:
    """Create, upload every slice and run; returns the job to poll with :func:`wait`."""
    size = await _size_of(audio)
    slice_num = _slice_count(size, slice_bytes)
    session_id = uuid.uuid4().hex
    audio_id = await create(transport, slice_num, session_id, audio_type=audio_type, credentials=credentials)
    for index in range(slice_num):
        chunk = await _read_slice(audio, index * slice_bytes, slice_bytes)
        await upload_slice(transport, audio_id, session_id, index, chunk, credentials=credentials)
    task_id = await run(transport, audio_id, session_id, credentials=credentials)
    return LasrJob(session_id=session_id, audio_id=audio_id, task_id=task_id)


async def wait(
    transport: VivoTransport,
    job: LasrJob,
    *,
    on_progress: ProgressCallback | None = None,
    poll_interval_s: float = 1.0,
    timeout_s: float | None = None,
    credentials: tuple[str, str] | None = None,
) -> list[LasrSentence]:
    """Poll until progress reaches 100, reporting each change, then fetch the result."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    last = -1
    while True:
        value = await progress(transport, job, credentials=credentials)
        if value != last and on_progress is not None:
            outcome = on_progress(value)
            if inspect.isawaitable(outcome):
                await outcome
        last = value
        if value >= 100:
            return await result(transport, job, credentials=credentials)
        if deadline is not None and time.monotonic() + poll_interval_s > deadline:
            raise VivoUnavailable(
                f"vivo transcription {job.task_id} did not finish within {timeout_s:g}s "
                f"(last progress {value}%)"
            )
        await asyncio.sleep(poll_interval_s)


def _slice_count(size: int, slice_bytes: int) -> int:
    if not 0 < slice_bytes <= SLICE_BYTES:
        raise ValueError(f"slice_bytes must be in (0, {SLICE_BYTES}]")
    if size <= 0:
        raise VivoBadRequest("the audio to transcribe is empty")
    if size >= MAX_AUDIO_BYTES:
        raise VivoBadRequest("vivo transcribes files under 500 MB only")
    count = math.ceil(size / slice_bytes)
    if count > MAX_SLICES:
        raise VivoBadRequest(f"the audio needs {count} slices; vivo accepts at most {MAX_SLICES}")
    return count


async def _size_of(audio: AudioSource) -> int:
    if isinstance(audio, bytes):
        return len(audio)
    return (await asyncio.to_thread(Path(audio).stat)).st_size


async def _read_slice(audio: AudioSource, offset: int, length: int) -> bytes:
    if isinstance(audio, bytes):
        return audio[offset : offset + length]

    def read() -> bytes:
        with open(audio, "rb") as handle:
            handle.seek(offset)
            return handle.read(length)

    return await asyncio.to_thread(read)


def _required(answer: dict[str, Any], key: str, step: str) -> str:
    value = answer["data"].get(key)
    if not value:
        raise VivoUpstreamError(f"vivo LASR {step} answered without {key}")
    return str(value)


def _sentence(item: dict[str, Any]) -> LasrSentence:
    speaker = item.get("speaker")
    return LasrSentence(
        onebest=str(item.get("onebest", "")),
        bg=int(item.get("bg", 0)),
        ed=int(item.get("ed", 0)),
        speaker=int(speaker) if isinstance(speaker, int | float) else None,
    )
