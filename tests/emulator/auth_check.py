"""Server-side verification of vivo's two auth generations (VIVO_PROTOCOL.md §2).

Written independently of ``vivo.auth`` on purpose: a signer bug must not be mirrored by the
verifier. Both canonical-query encodings of §2.1 (official Python and Go SDK) are accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from urllib.parse import quote, quote_plus

SIGNED_HEADERS = "x-ai-gateway-app-id;x-ai-gateway-timestamp;x-ai-gateway-nonce"


class AuthFailure(Exception):
    """The request is not authenticated; the message is what vivo would say."""


def _canonical(query: Mapping[str, str], go_style: bool) -> str:
    if go_style:
        return "&".join(f"{quote_plus(k, safe='~')}={quote_plus(query[k], safe='~')}" for k in sorted(query))
    return "&".join(f"{quote(k)}={quote(query[k])}" for k in sorted(query))


def _expected(app_key: str, method: str, path: str, canonical: str, headers: Mapping[str, str]) -> str:
    app_id = headers["x-ai-gateway-app-id"]
    ts = headers["x-ai-gateway-timestamp"]
    nonce = headers["x-ai-gateway-nonce"]
    text = "\n".join(
        [
            method.upper(),
            path,
            canonical,
            app_id,
            ts,
            f"x-ai-gateway-app-id:{app_id}\nx-ai-gateway-timestamp:{ts}\nx-ai-gateway-nonce:{nonce}",
        ]
    )
    digest = hmac.new(app_key.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    credentials: Mapping[str, str],
    max_skew_s: float,
    *,
    websocket: bool = False,
) -> str:
    """Return ``"hmac"`` or ``"bearer"`` for an authenticated request, else raise AuthFailure.

    ``headers`` must have lower-case names.
    """
    authorization = headers.get("authorization", "")
    if authorization.startswith("Bearer "):
        if authorization[len("Bearer ") :] not in credentials.values():
            raise AuthFailure("invalid api-key")
        if websocket and headers.get("x-ai-gateway-signature") != "developers-aigc":
            raise AuthFailure("invalid api-key")
        return "bearer"
    app_id = headers.get("x-ai-gateway-app-id")
    if not app_id:
        raise AuthFailure("missing required app_id in the request header")
    app_key = credentials.get(app_id)
    needed = ("x-ai-gateway-timestamp", "x-ai-gateway-nonce", "x-ai-gateway-signature")
    if app_key is None or any(not headers.get(h) for h in needed):
        raise AuthFailure("invalid api-key")
    if headers.get("x-ai-gateway-signed-headers", "").lower() != SIGNED_HEADERS:
        raise AuthFailure("invalid api-key")
    try:
        skew = abs(time.time() - int(headers["x-ai-gateway-timestamp"]))
    except ValueError:
        raise AuthFailure("invalid api-key") from None
    if skew > max_skew_s:
        raise AuthFailure("invalid api-key")
    given = headers["x-ai-gateway-signature"]
    for go_style in (False, True):
        expected = _expected(app_key, method, path, _canonical(query, go_style), headers)
        if hmac.compare_digest(expected, given):
            return "hmac"
    raise AuthFailure("invalid api-key")
