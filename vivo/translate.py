"""Text translation (§7): ``POST /translation/query/self``, form-urlencoded.

vivo translates only between Chinese, English, Japanese and Korean. The old gateway accepted
fr/de/es/it/ru/ar and silently returned a mock; here an unsupported pair is a typed bad request,
raised before anything is sent, so the caller learns it at once and no quota is spent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from vivo.errors import VivoBadRequest, VivoUpstreamError
from vivo.transport import VivoTransport

TRANSLATE_PATH = "/translation/query/self"
MAX_TEXT_CHARS = 1200
# Our (and the app's) language codes → vivo's. Only these exist at vivo (§7).
LANGUAGES = {
    "zh": "zh-CHS",
    "zh-chs": "zh-CHS",
    "zh-cn": "zh-CHS",
    "zh-hans": "zh-CHS",
    "cn": "zh-CHS",
    "en": "en",
    "ja": "ja",
    "jp": "ja",
    "ko": "ko",
    "kr": "ko",
    "auto": "auto",
}


@dataclass(frozen=True)
class Translation:
    """A translated text with the vivo language codes actually used."""

    text: str
    translation: str
    source: str
    target: str


def vivo_language(code: str, *, as_target: bool = False) -> str:
    """Map a language code to vivo's, or raise :class:`VivoBadRequest` naming what is supported."""
    mapped = LANGUAGES.get((code or "").strip().lower())
    if mapped is None or (as_target and mapped == "auto"):
        choices = "zh, en, ja, ko" + ("" if as_target else ", auto")
        role = "target" if as_target else "source"
        raise VivoBadRequest(f"vivo cannot translate {role} language {code!r}; supported: {choices}")
    return mapped


async def translate(
    transport: VivoTransport,
    text: str,
    source: str,
    target: str,
    *,
    credentials: tuple[str, str] | None = None,
) -> Translation:
    """Translate ``text`` (≤1200 characters); same source and target return the text unchanged."""
    src = vivo_language(source)
    dst = vivo_language(target, as_target=True)
    if not text.strip():
        raise VivoBadRequest("the text to translate is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise VivoBadRequest(
            f"vivo translates at most {MAX_TEXT_CHARS} characters per call ({len(text)} sent)"
        )
    if src == dst:
        return Translation(text=text, translation=text, source=src, target=dst)
    request_id = str(uuid.uuid4())
    form = {"from": src, "to": dst, "text": text, "app": "test", "requestId": request_id}
    # Gen B wants requestId in the query too (D26); gen-A clients send no query at all.
    params = {"requestId": request_id} if transport.settings.auth == "bearer" else None
    answer = await transport.request_json(
        TRANSLATE_PATH, params=params, data=form, credentials=credentials, idempotent=True
    )
    data = answer.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("translation"), str):
        raise VivoUpstreamError("vivo translation answered without data.translation")
    return Translation(
        text=text,
        translation=data["translation"],
        source=str(data.get("from") or src),
        target=str(data.get("to") or dst),
    )
