"""The wire layer under every vivo capability: one pooled HTTP client, signing, retries, errors.

Retrying is decided here, once, by what is *safe*: a call that never reached vivo (connect error,
connect timeout, pool timeout) may always be re-sent; a call vivo may already have executed is re-sent
only when the caller marks it idempotent (chat, OCR, translation, LASR progress/result...), and only
for rate limiting, 5xx and timeouts. Non-idempotent steps (LASR create/run) are never re-run once sent.
Every attempt is signed afresh (new timestamp and nonce).
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import random
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidStatus

from vivo.auth import bearer_headers, hmac_headers
from vivo.config import Credentials, VivoSettings
from vivo.errors import (
    VivoAuthError,
    VivoError,
    VivoRateLimited,
    VivoUnavailable,
    VivoUpstreamError,
    error_from_code,
    error_from_http,
    redact,
)

log = logging.getLogger(__name__)
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class _Failure(Exception):
    """An attempt's error plus whether the request surely never reached vivo."""

    def __init__(self, error: VivoError, *, reached_vivo: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.reached_vivo = reached_vivo


class VivoTransport:
    """Signs, sends and retries vivo calls over one shared ``httpx.AsyncClient``."""

    def __init__(
        self,
        settings: VivoSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        timeout = httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s)
        limits = httpx.Limits(
            max_connections=settings.max_connections,
            max_keepalive_connections=settings.max_connections,
        )
        self._http = httpx.AsyncClient(
            base_url=settings.base_url, timeout=timeout, limits=limits, transport=transport
        )

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    def auth_headers(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        creds: Credentials,
        *,
        websocket: bool = False,
    ) -> dict[str, str]:
        """Headers authenticating one request with the configured generation."""
        if self.settings.auth == "bearer":
            return bearer_headers(creds.app_key, websocket=websocket)
        return hmac_headers(creds.app_id, creds.app_key, method, path, params)

    async def request_json(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        idempotent: bool = True,
        credentials: tuple[str, str] | None = None,
        code_key: str | None = "code",
        message_keys: tuple[str, ...] = ("msg",),
    ) -> dict[str, Any]:
        """POST ``path`` and return the JSON body, raising our error for HTTP or business failures.

        ``code_key`` names the body field holding vivo's business code (``code`` or ``error_code``);
        a non-zero value is mapped with :func:`error_from_code`, its text taken from ``message_keys``.
        """
        creds = self.settings.credentials(credentials)
        str_params = _stringify(params)
        attempt = 0
        while True:
            try:
                body = await self._post_once(path, str_params, json, data, files, creds)
                _raise_for_code(body, code_key, message_keys)
                return body
            except _Failure as failure:
                error = failure.error
                retry = self._may_retry(error, failure.reached_vivo, idempotent, attempt)
            except VivoError as error_:
                error = error_
                retry = self._may_retry(error, True, idempotent, attempt)
            if not retry:
                raise _scrubbed(error, creds)
            attempt += 1
            await self._backoff(attempt, path, error)

    async def _post_once(
        self,
        path: str,
        params: dict[str, str],
        json: Any,
        data: Mapping[str, Any] | None,
        files: Mapping[str, Any] | None,
        creds: Credentials,
    ) -> dict[str, Any]:
        headers = self.auth_headers("POST", path, params, creds)
        try:
            response = await self._http.post(
                path, params=params, json=json, data=data, files=files, headers=headers
            )
        except httpx.HTTPError as exc:
            raise _transport_failure(exc, path, self.settings) from None
        parsed = _parse_json(response)
        if response.status_code != 200:
            raise _Failure(error_from_http(response.status_code, parsed), reached_vivo=True)
        if not isinstance(parsed, dict):
            raise _Failure(VivoUpstreamError(f"vivo answered {path} with a non-JSON body"), reached_vivo=True)
        return parsed

    @asynccontextmanager
    async def stream_lines(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        credentials: tuple[str, str] | None = None,
    ) -> AsyncIterator[AsyncIterator[str]]:
        """Open a streamed POST (SSE) and yield an iterator over its text lines.

        Opening is retried like an idempotent call (nothing has reached the caller yet); once lines
        flow, an interruption raises :class:`VivoUnavailable` instead of silently truncating.
        """
        creds = self.settings.credentials(credentials)
        str_params = _stringify(params)
        response = await self._open_stream(path, str_params, json, creds)
        try:
            yield _lines(response, path)
        finally:
            await response.aclose()

    async def _open_stream(
        self, path: str, params: dict[str, str], json: Any, creds: Credentials
    ) -> httpx.Response:
        attempt = 0
        while True:
            headers = self.auth_headers("POST", path, params, creds)
            request = self._http.build_request("POST", path, params=params, json=json, headers=headers)
            try:
                response = await self._http.send(request, stream=True)
                if response.status_code == 200:
                    return response
                await response.aread()
                await response.aclose()
                failure = _Failure(
                    error_from_http(response.status_code, _parse_json(response)), reached_vivo=True
                )
            except httpx.HTTPError as exc:
                failure = _transport_failure(exc, path, self.settings)
            if not self._may_retry(failure.error, failure.reached_vivo, True, attempt):
                raise _scrubbed(failure.error, creds)
            attempt += 1
            await self._backoff(attempt, path, failure.error)

    async def connect_websocket(
        self,
        path: str,
        params: Mapping[str, Any],
        *,
        credentials: tuple[str, str] | None = None,
    ) -> ClientConnection:
        """Open a signed WebSocket to ``path`` (handshake query signed, §5.1), with retries.

        A handshake vivo refused maps to our errors (400/401 → :class:`VivoAuthError`); a connection
        that could not be made maps to :class:`VivoUnavailable`. The caller must close the socket.
        """
        creds = self.settings.credentials(credentials)
        str_params = _stringify(params)
        url = f"{self.settings.ws_base_url}{path}?{urlencode(str_params)}"
        attempt = 0
        while True:
            headers = self.auth_headers("GET", path, str_params, creds, websocket=True)
            try:
                return await connect(
                    url,
                    additional_headers=headers,
                    open_timeout=self.settings.connect_timeout_s,
                    close_timeout=2,
                    max_size=None,
                    compression=None,
                )
            except InvalidStatus as exc:
                error = _handshake_error(exc)
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                error = VivoUnavailable(f"cannot open the vivo WebSocket {path}: {type(exc).__name__}")
            if not self._may_retry(error, not isinstance(error, VivoUnavailable), True, attempt):
                raise _scrubbed(error, creds)
            attempt += 1
            await self._backoff(attempt, path, error)

    def _may_retry(self, error: VivoError, reached_vivo: bool, idempotent: bool, attempt: int) -> bool:
        if attempt >= self.settings.max_retries:
            return False
        if not reached_vivo:
            return True
        return idempotent and isinstance(error, (VivoRateLimited, VivoUnavailable))

    async def _backoff(self, attempt: int, path: str, error: VivoError) -> None:
        base = self.settings.backoff_base_s * (2 ** (attempt - 1))
        delay = min(self.settings.backoff_max_s, base) * random.uniform(0.5, 1.0)
        log.warning("vivo %s failed (%s); retry %d in %.2fs", path, error.code, attempt, delay)
        await asyncio.sleep(delay)


async def _lines(response: httpx.Response, path: str) -> AsyncIterator[str]:
    try:
        async for line in response.aiter_lines():
            yield line
    except httpx.HTTPError as exc:
        raise VivoUnavailable(f"vivo stream {path} was interrupted: {type(exc).__name__}") from None


def _transport_failure(exc: httpx.HTTPError, path: str, settings: VivoSettings) -> _Failure:
    if isinstance(exc, _NOT_SENT):
        return _Failure(
            VivoUnavailable(f"cannot reach vivo at {settings.base_url} ({type(exc).__name__})"),
            reached_vivo=False,
        )
    if isinstance(exc, httpx.TimeoutException):
        message = f"vivo did not answer {path} within {settings.timeout_s:g}s"
    else:
        message = f"connection to vivo failed during {path} ({type(exc).__name__})"
    return _Failure(VivoUnavailable(message), reached_vivo=True)


def _handshake_error(exc: InvalidStatus) -> VivoError:
    status = exc.response.status_code
    try:
        body: Any = jsonlib.loads(exc.response.body or b"")
    except ValueError:
        body = (exc.response.body or b"").decode("utf-8", "replace")
    if status in (400, 401, 403):
        detail = body.get("error_msg") or body.get("message") if isinstance(body, dict) else body
        return VivoAuthError(
            f"vivo refused the WebSocket handshake (HTTP {status}): {detail or 'no detail'}; "
            "check APPID/APPKEY and the clock"
        )
    return error_from_http(status, body)


def _raise_for_code(body: dict[str, Any], code_key: str | None, message_keys: tuple[str, ...]) -> None:
    if code_key is None:
        return
    code = body.get(code_key, 0)
    if code in (0, None, "0"):
        return
    message = next((str(body[k]) for k in message_keys if body.get(k)), "")
    try:
        number = int(code)
    except (TypeError, ValueError):
        raise VivoUpstreamError(f"vivo answered with error {code!r}: {message}") from None
    raise error_from_code(number, message)


def _parse_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _stringify(params: Mapping[str, Any] | None) -> dict[str, str]:
    # Sign exactly what is sent: both go through str() once, here.
    return {k: "" if v is None else str(v) for k, v in (params or {}).items()}


def _scrubbed(error: VivoError, creds: Credentials) -> VivoError:
    """Return ``error`` with the app key removed from its message (vivo may echo input back)."""
    message = error.message
    clean = redact(message, creds.app_key)
    if clean == message:
        return error
    fresh = type(error)(clean)
    fresh.vivo_code = error.vivo_code
    return fresh
