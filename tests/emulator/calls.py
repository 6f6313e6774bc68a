"""The common start of every emulated HTTP call: log it, check auth, apply injected faults."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.emulator.auth_check import AuthFailure, verify
from tests.emulator.state import EmulatorState, Injection, RecordedRequest


@dataclass
class Call:
    """One accepted call; ``early`` is set when the answer is already decided (auth, injection)."""

    record: RecordedRequest
    injection: Injection | None = None
    early: Response | None = None

    @property
    def injected_code(self) -> int | None:
        return None if self.injection is None else self.injection.code

    @property
    def injected_msg(self) -> str:
        return (self.injection.msg if self.injection else None) or "injected error"


async def begin(state: EmulatorState, request: Request, capability: str) -> Call:
    """Record the request, verify its signature, and consume any matching injection."""
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    record = RecordedRequest(
        capability=capability,
        method=request.method,
        path=request.url.path,
        query=dict(request.query_params),
        headers=headers,
        body=body,
    )
    state.record(record)
    try:
        record.auth = verify(
            request.method, request.url.path, record.query, headers, state.credentials, state.max_skew_s
        )
    except AuthFailure as exc:
        return Call(record, early=JSONResponse({"message": str(exc)}, status_code=401))
    injection = state.take(capability)
    if injection is not None and injection.delay_s:
        await asyncio.sleep(injection.delay_s)
    if injection is not None and injection.http_status:
        payload: dict[str, object] = {"message": injection.msg or "injected failure"}
        if injection.code is not None:
            payload["code"] = injection.code
        return Call(record, injection, JSONResponse(payload, status_code=injection.http_status))
    return Call(record, injection)
