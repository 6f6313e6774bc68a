"""Access control installed on the FastAPI app: API keys, CORS, per-client rate limits, and the
bound on uploads one gateway replica receives at once.

Keys for our own clients come from ``AURALAB_API_KEYS`` (comma-separated) or the file named by
``AURALAB_API_KEYS_FILE`` (a mounted Secret: one key per line, ``#`` comments), are kept only as
SHA-256 digests and compared in constant time. The health routes stay open for probes. HTTPS is
terminated by the Ingress in front of the gateway.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from deployments.config import AppArgs
from deployments.errors import ApiError, ServiceUnavailable, error_response
from deployments.ratelimit import SharedRateLimiter, actor_name_for_app

logger = logging.getLogger("ray.serve")

OPEN_PATHS = frozenset({"/health", "/bluelm/health"})
KEYS_ENV = "AURALAB_API_KEYS"
KEYS_FILE_ENV = "AURALAB_API_KEYS_FILE"
MIN_KEY_CHARS = 16


class Unauthorized(ApiError):
    code = "unauthorized"
    status = 401


class RateLimited(ApiError):
    code = "rate_limited"
    status = 429
    retry_after = 1


class UploadsBusy(ServiceUnavailable):
    retry_after = 2


class ApiKeys:
    """The accepted keys, as SHA-256 digests only."""

    def __init__(self, keys: Iterable[str]):
        cleaned = [k.strip() for k in keys if k.strip()]
        short = [k for k in cleaned if len(k) < MIN_KEY_CHARS]
        if short:
            raise ValueError(f"API keys must be at least {MIN_KEY_CHARS} characters ({len(short)} shorter)")
        self._digests = [hashlib.sha256(k.encode()).digest() for k in cleaned]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ApiKeys:
        env = os.environ if environ is None else environ
        keys = [k for k in env.get(KEYS_ENV, "").split(",")]
        path = env.get(KEYS_FILE_ENV, "").strip()
        if path:
            for line in Path(path).read_text(encoding="utf-8").splitlines():
                if not line.strip().startswith("#"):
                    keys += line.split(",")
        return cls(keys)

    def identify(self, presented: str) -> str | None:
        """A stable, non-secret id of the matching key (for rate limits and logs), or None."""
        digest = hashlib.sha256(presented.encode("utf-8", "replace")).digest()
        match = False
        for known in self._digests:  # no early exit: every key costs the same comparison
            match |= hmac.compare_digest(digest, known)
        return f"key:{digest.hex()[:12]}" if match else None

    def __len__(self) -> int:
        return len(self._digests)

    def __repr__(self) -> str:
        return f"ApiKeys({len(self)} keys)"


class UploadSlots:
    """How many uploads this replica is receiving; a full replica answers 503 at once."""

    def __init__(self, limit: int):
        self.limit = limit
        self.active = 0

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        if self.active >= self.limit:
            raise UploadsBusy("Too many uploads in progress on this server; try again shortly")
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1


@contextlib.contextmanager
def upload_slot(request: Request) -> Iterator[None]:
    """Hold one of the replica's upload slots while an upload is received (no-op if none set)."""
    slots: UploadSlots | None = getattr(request.app.state, "upload_slots", None)
    if slots is None:
        yield
        return
    with slots.hold():
        yield


class SecurityGuard:
    """ASGI middleware: API key check, then the rate limit, before any route runs."""

    def __init__(self, app: ASGIApp, keys: ApiKeys | None, limiter: SharedRateLimiter | None):
        self.app = app
        self.keys = keys
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _route_path(scope) in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            client = self._client_id(request)
            if self.limiter is not None:
                wait = await self.limiter.retry_after(client)
                if wait > 0:
                    raise _rate_limited(wait)
        except ApiError as exc:
            await self._refuse(exc, scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _client_id(self, request: Request) -> str:
        if self.keys is None:
            return f"ip:{request.client.host if request.client else 'unknown'}"
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Missing API key: send 'Authorization: Bearer <key>'")
        key_id = self.keys.identify(token.strip())
        if key_id is None:
            raise Unauthorized("Invalid API key")
        return key_id

    @staticmethod
    async def _refuse(exc: ApiError, scope: Scope, receive: Receive, send: Send) -> None:
        rid = getattr(Request(scope).state, "request_id", "") or "-"
        response = error_response(exc, rid)
        if isinstance(exc, Unauthorized):
            response.headers["WWW-Authenticate"] = 'Bearer realm="auralab"'
        await response(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path inside the app, whether or not the server put the route prefix into ``path``."""
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _rate_limited(wait_s: float) -> RateLimited:
    exc = RateLimited("Too many requests; slow down and retry after the Retry-After seconds")
    exc.retry_after = max(1, int(wait_s + 0.999))
    return exc


def install_security(
    api: FastAPI,
    args: AppArgs,
    keys: ApiKeys | None = None,
    limiter: SharedRateLimiter | None = None,
) -> None:
    """Put the guard innermost (inside the request-id middleware, so refusals carry the id) and
    CORS outermost (so preflights are answered and refusals carry CORS headers)."""
    sec = args.security
    if sec.require_api_key:
        keys = keys if keys is not None else ApiKeys.from_environment()
        if not len(keys):
            raise RuntimeError(
                f"security.require_api_key is on but no API keys are set: use {KEYS_ENV} or {KEYS_FILE_ENV}"
            )
        logger.info("API keys required (%d configured)", len(keys))
    else:
        keys = None
        logger.warning(
            "SECURITY WARNING: API keys are OFF (security.require_api_key: false): anyone who can reach "
            "this port can use every endpoint. Turn them on for any deployment beyond one laptop."
        )
    if limiter is None and sec.rate_limit_per_minute > 0:
        limiter = SharedRateLimiter(sec.rate_limit_per_minute, sec.rate_limit_burst, actor_name_for_app())
    api.state.upload_slots = UploadSlots(sec.max_concurrent_uploads)
    api.user_middleware.append(Middleware(SecurityGuard, keys=keys, limiter=limiter))
    if sec.cors_origins:
        api.add_middleware(
            CORSMiddleware,
            allow_origins=list(sec.cors_origins),
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            allow_credentials=False,
            max_age=600,
        )
