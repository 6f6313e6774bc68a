"""One error vocabulary for everything that can go wrong talking to vivo.

Each class carries a stable machine ``code`` and the HTTP ``status`` our gateway should answer with as
*class* attributes, so the gateway maps them in one place. Constructors take only a message: the
exceptions cross Ray handles and must survive pickling. The vivo numeric code, when known, is attached
as the instance attribute ``vivo_code`` (kept by pickling through ``__dict__``).

Messages never contain the app key: :func:`redact` scrubs it from any upstream text first.
"""

from __future__ import annotations

from typing import Any


class VivoError(Exception):
    """Base class: a failure of a vivo call that the gateway turns into one JSON error body."""

    code: str = "vivo_error"
    status: int = 502
    retry_after: int | None = None
    vivo_code: int | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)

    @property
    def message(self) -> str:
        """The human-readable message (the single constructor argument)."""
        return str(self.args[0]) if self.args else ""


class VivoAuthError(VivoError):
    """vivo rejected our credentials or signature: an operator must fix APPID/APPKEY."""

    code = "vivo_auth_failed"
    status = 502


class VivoQuotaExceeded(VivoError):
    """The daily usage quota (vivo code 2003) is spent; retrying soon will not help."""

    code = "vivo_quota_exceeded"
    status = 503
    retry_after = 3600


class VivoRateLimited(VivoError):
    """vivo throttled us (30001 "hit model rate limit", HTTP 429, TTS 11001 overload)."""

    code = "vivo_rate_limited"
    status = 503
    retry_after = 2


class VivoModerationError(VivoError):
    """vivo's content filter refused the input or output (1007, SSE ``antispam``)."""

    code = "vivo_content_rejected"
    status = 422


class VivoBadRequest(VivoError):
    """The request cannot succeed as sent (parameter errors, unsupported language, text too long)."""

    code = "vivo_bad_request"
    status = 400


class VivoUpstreamError(VivoError):
    """vivo answered with an error we have no better category for."""

    code = "vivo_upstream_error"
    status = 502


class VivoUnavailable(VivoError):
    """vivo could not be reached in time (connect error, timeout, 5xx, dropped stream)."""

    code = "vivo_unavailable"
    status = 503
    retry_after = 5


class VivoNotConfigured(VivoError):
    """No credentials are configured, so no call can be signed."""

    code = "vivo_not_configured"
    status = 503
    retry_after = None


NOT_CONFIGURED_MESSAGE = "vivo credentials are not configured: set the APPID and APPKEY environment variables"

# Codes documented in VIVO_PROTOCOL.md (§3.4, §5.3, §6, §7, §8) and what they mean for a caller.
_BAD_REQUEST_CODES = frozenset(
    {1001, 20000, 10001, 10002, 10010, 10011, 10100, 10101, 10102, 10103, 11003, 11004, 11010}
)
_AUTH_CODES = frozenset({2001, 10012, 40100, 40101, 40102})
_RATE_CODES = frozenset({429, 11001})


def redact(text: str, *secrets: str | None) -> str:
    """Return ``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def error_from_code(vivo_code: int, message: str) -> VivoError:
    """Map a vivo business error code (``code``/``error_code`` in a body or frame) to our error."""
    label = f"vivo error {vivo_code}: {message}" if message else f"vivo error {vivo_code}"
    cls: type[VivoError]
    if vivo_code == 2003:
        cls = VivoQuotaExceeded
    elif vivo_code == 1007:
        cls = VivoModerationError
    elif vivo_code == 30001:
        # 30001 means either "no model access permission" or "hit model rate limit" (§3.4).
        cls = VivoAuthError if "permission" in message.lower() else VivoRateLimited
    elif vivo_code in _RATE_CODES:
        cls = VivoRateLimited
    elif vivo_code in _AUTH_CODES:
        cls = VivoAuthError
    elif vivo_code in _BAD_REQUEST_CODES:
        cls = VivoBadRequest
    else:
        cls = VivoUpstreamError
    return with_vivo_code(cls(label), vivo_code)


def error_from_http(status: int, body: Any) -> VivoError:
    """Map a non-200 HTTP answer (status and parsed JSON body, or text) to our error."""
    detail = _body_message(body)
    if isinstance(body, dict):
        inner = body.get("code", body.get("error_code"))
        if isinstance(inner, int) and inner != 0 and status not in (401, 403):
            return error_from_code(inner, detail)
    suffix = f": {detail}" if detail else ""
    if status in (401, 403):
        return VivoAuthError(f"vivo rejected the credentials (HTTP {status}){suffix}")
    if status == 429:
        return VivoRateLimited(f"vivo rate limit (HTTP 429){suffix}")
    if status >= 500:
        return VivoUnavailable(f"vivo is unavailable (HTTP {status}){suffix}")
    if status in (400, 413, 422):
        return VivoBadRequest(f"vivo rejected the request (HTTP {status}){suffix}")
    return VivoUpstreamError(f"unexpected vivo answer (HTTP {status}){suffix}")


def with_vivo_code(error: VivoError, vivo_code: int | None) -> VivoError:
    """Attach vivo's numeric code to ``error`` (kept across pickling) and return it."""
    error.vivo_code = vivo_code
    return error


def _body_message(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("message", "msg", "error_msg", "desc"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:300]
        return ""
    if isinstance(body, str):
        return body.strip()[:300]
    return ""
