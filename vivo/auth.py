"""Request signing for both generations of the vivo gateway (VIVO_PROTOCOL.md §2).

Generation A signs method, path, canonical query and three ``x-ai-gateway-*`` headers with
HMAC-SHA256 keyed by the app key; generation B sends the key as a Bearer token. Only the query is
signed, never the body, so the exact query values we sign must be the ones we send.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
import time
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote, quote_plus

SIGNED_HEADERS = "x-ai-gateway-app-id;x-ai-gateway-timestamp;x-ai-gateway-nonce"
# Gen-B WebSocket and voice-replica calls also carry this constant (§2, §5.1).
BEARER_WS_SIGNATURE = "developers-aigc"
_NONCE_ALPHABET = string.ascii_lowercase + string.digits

QueryStyle = Literal["python", "go"]


def canonical_query(params: Mapping[str, Any] | None, style: QueryStyle = "python") -> str:
    """Sorted ``k=v`` pairs joined by ``&``, percent-encoded like vivo's official signer.

    ``python`` is the official ``auth_util.py`` (``urllib.parse.quote``, space→``%20``, ``/`` kept);
    ``go`` is the Go SDK's ``url.Values.Encode`` (space→``+``, ``/``→``%2F``). They agree on the
    values vivo calls actually use; a verifier should accept either.
    """
    if not params:
        return ""
    if style == "python":
        pairs = (f"{quote(str(k))}={quote(_text(params[k]))}" for k in sorted(params))
    else:
        pairs = (
            f"{quote_plus(str(k), safe='~')}={quote_plus(_text(params[k]), safe='~')}" for k in sorted(params)
        )
    return "&".join(pairs)


def signing_string(
    method: str,
    path: str,
    canonical: str,
    app_id: str,
    timestamp: str,
    nonce: str,
) -> str:
    """The eight-line text that generation A signs (§2.1), without a trailing newline."""
    signed_block = (
        f"x-ai-gateway-app-id:{app_id}\nx-ai-gateway-timestamp:{timestamp}\nx-ai-gateway-nonce:{nonce}"
    )
    return "\n".join([method.upper(), path, canonical, app_id, timestamp, signed_block])


def signature(app_key: str, text: str) -> str:
    """``base64(HMAC-SHA256(app_key, text))`` over the raw 32-byte digest (44 characters)."""
    digest = hmac.new(app_key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def new_nonce() -> str:
    """Eight random ``[a-z0-9]`` characters, as the official signer draws them."""
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(8))


def hmac_headers(
    app_id: str,
    app_key: str,
    method: str,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The five generation-A headers for one request; a fresh nonce and timestamp by default."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or new_nonce()
    text = signing_string(method, path, canonical_query(params), app_id, ts, nonce)
    return {
        "X-AI-GATEWAY-APP-ID": app_id,
        "X-AI-GATEWAY-TIMESTAMP": ts,
        "X-AI-GATEWAY-NONCE": nonce,
        "X-AI-GATEWAY-SIGNED-HEADERS": SIGNED_HEADERS,
        "X-AI-GATEWAY-SIGNATURE": signature(app_key, text),
    }


def bearer_headers(app_key: str, *, websocket: bool = False) -> dict[str, str]:
    """Generation-B headers: the key as a Bearer token (plus the constant signature on WebSockets)."""
    headers = {"Authorization": f"Bearer {app_key}"}
    if websocket:
        headers["X-AI-GATEWAY-SIGNATURE"] = BEARER_WS_SIGNATURE
    return headers


def _text(value: Any) -> str:
    # The official signer uses str(v); None means "present without a value" (``k=``).
    return "" if value is None else str(value)
