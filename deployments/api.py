"""The FastAPI application: routers, request ids, and the single error mapping."""

from __future__ import annotations

import re
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from deployments.config import AppArgs
from deployments.errors import ApiError, BadRequest, error_response, validation_message
from deployments.security import install_security

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class _HttpError(ApiError):
    def __init__(self, message: str, status: int, code: str):
        super().__init__(message)
        self.status = status
        self.code = code


def _serve_request_id() -> str:
    """Serve's id for this request (it honours an incoming X-Request-ID), so logs and bodies agree."""
    try:
        from ray.serve.context import _get_serve_request_context
    except ImportError:
        return ""
    return _get_serve_request_context().request_id or ""


def request_id(request: Request) -> str:
    return getattr(request.state, "request_id", "") or "-"


def create_api(args: AppArgs) -> FastAPI:
    api = FastAPI(
        title="AuraLab Serve",
        version="0.1.0",
        description="WhisperX transcription, speaker diarization and vivo BlueLM proxies on Ray Serve.",
    )

    @api.middleware("http")
    async def _request_id(request: Request, call_next) -> Response:  # type: ignore[no-untyped-def]
        serve_rid = _serve_request_id()
        incoming = request.headers.get("x-request-id", "")
        rid = serve_rid or (incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex)
        request.state.request_id = rid
        try:
            response = await call_next(request)
        except Exception as exc:  # the last line of defence: never a stack trace to the caller
            response = error_response(exc, rid)
        if serve_rid:  # Serve's proxy adds the same X-Request-ID header itself
            del response.headers["x-request-id"]
        else:
            response.headers["X-Request-ID"] = rid
        return response

    @api.exception_handler(Exception)
    async def _any(request: Request, exc: Exception) -> Response:
        return error_response(exc, request_id(request))

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # Locations start with where the value came from ("body", "query"): drop that part.
        return error_response(BadRequest(validation_message(exc.errors(), skip=1)), request_id(request))

    @api.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            err = _HttpError("Endpoint not found", 404, "not_found")
        elif exc.status_code == 405:
            err = _HttpError("Method not allowed for this endpoint", 405, "method_not_allowed")
        else:
            err = _HttpError(str(exc.detail), exc.status_code, "http_error")
        return error_response(err, request_id(request))

    _include_routers(api)
    install_security(api, args)
    return api


def _include_routers(api: FastAPI) -> None:
    from deployments import routes_bluelm, routes_health, routes_model, routes_vivo, routes_whisperx

    for module in (routes_health, routes_whisperx, routes_model, routes_vivo, routes_bluelm):
        api.include_router(module.router)
