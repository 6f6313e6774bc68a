"""The API's error vocabulary, and the one place exceptions become HTTP responses.

Every error we raise, in any layer, carries class attributes ``code`` (stable, machine-readable) and
``status`` (HTTP), and may carry ``retry_after`` (seconds). Constructors take only a message, so the
exceptions survive pickling across Ray handles. Anything else is a bug: 500 with no internals.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi.responses import JSONResponse

logger = logging.getLogger("auralab.gateway")


class ApiError(Exception):
    code = "internal_error"
    status = 500


class BadRequest(ApiError):
    code = "bad_request"
    status = 400


class NotFound(ApiError):
    code = "not_found"
    status = 404


class UnsupportedMediaType(ApiError):
    code = "unsupported_media_type"
    status = 415


class PayloadTooLarge(ApiError):
    code = "file_too_large"
    status = 413


class ResultNotReady(ApiError):
    code = "result_not_ready"
    status = 400


class ServiceUnavailable(ApiError):
    code = "service_unavailable"
    status = 503
    retry_after = 5


_INTERNAL_MESSAGE = "An unexpected error occurred. Please try again later."
_RAY_UNAVAILABLE = {
    "BackPressureError": "The service is at capacity",
    "DeploymentUnavailableError": "A backend deployment is not running",
    "ActorDiedError": "A backend replica stopped",
    "RayActorError": "A backend replica stopped",
    "ActorUnavailableError": "A backend replica is unavailable",
    "RequestCancelledError": "The request was cancelled",
}


def classify(exc: BaseException) -> tuple[int, str, str, int | None]:
    """(status, code, message, retry_after) for any exception."""
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    if isinstance(status, int) and isinstance(code, str) and 400 <= status < 600:
        if status == 500:  # ours to fix (a bug, a refused storage call): its text is internal
            return 500, code, _INTERNAL_MESSAGE, None
        retry = getattr(exc, "retry_after", None) if status in (429, 503) else None
        return status, code, _message(exc), retry
    for klass in type(exc).__mro__:
        if klass.__name__ in _RAY_UNAVAILABLE:
            return 503, "service_unavailable", _RAY_UNAVAILABLE[klass.__name__] + "; try again shortly", 5
    return 500, "internal_error", _INTERNAL_MESSAGE, None


def _message(exc: BaseException) -> str:
    """The human message: for errors that crossed a Ray handle, the original one, not the traceback."""
    cause = getattr(exc, "cause", None)
    if cause is not None and getattr(cause, "code", None) == getattr(exc, "code", None):
        exc = cause
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    return text.splitlines()[0][:500] if text else type(exc).__name__


def validation_message(errors: Iterable[Mapping[str, Any]], skip: int = 0) -> str:
    """Pydantic's problems as one line, by field (``skip`` leading parts of each location), at most
    five. Never the input values: a rejected field may be the caller's key."""
    problems = [
        f"{'.'.join(str(p) for p in tuple(e.get('loc', ()))[skip:]) or 'body'}: {e.get('msg', 'invalid')}"
        for e in list(errors)[:5]
    ]
    return f"Invalid request: {'; '.join(problems)}"


def error_response(exc: BaseException, request_id: str) -> JSONResponse:
    status, code, message, retry_after = classify(exc)
    if status == 500:
        logger.error("request %s failed: %s", request_id, type(exc).__name__, exc_info=exc)
    else:
        logger.info("request %s -> %s %s", request_id, status, code)
    body = {"success": False, "error": code, "message": message, "request_id": request_id}
    headers = {"X-Request-ID": request_id}
    if retry_after is not None:
        headers["Retry-After"] = str(int(retry_after))
    return JSONResponse(body, status_code=status, headers=headers)
