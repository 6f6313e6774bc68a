"""General OCR (§8): ``POST /ocr/general_recognition``, form-urlencoded, normalised output.

vivo's answer changes shape with ``pos`` (``words`` list vs upper-case ``OCR`` list, sometimes a
plain string) and the old gateway passed those shapes on (its mode-2 keys ``Pos``/``Word`` never
matched what the app read). Here every mode returns one shape with lower-case keys:
``{"text": joined lines, "lines": [{"text", "location"}], "angle": int}``.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from typing import Any

from vivo.errors import VivoBadRequest, VivoUpstreamError, error_from_code
from vivo.transport import VivoTransport

OCR_PATH = "/ocr/general_recognition"
# Handles rotated text; the alternative 8bf3… id is faster but upright only (§8).
DEFAULT_BUSINESS_ID = "1990173156ceb8a09eee80c293135279"
POSITIONS = (0, 1, 2)
_CORNERS = ("top_left", "top_right", "down_left", "down_right")


@dataclass(frozen=True)
class OcrLine:
    """One recognised line; ``location`` maps corner names to ``{"x", "y"}`` (None for pos 0)."""

    text: str
    location: dict[str, dict[str, float]] | None = None


@dataclass(frozen=True)
class OcrResult:
    """Normalised OCR output, the same shape for every ``pos``."""

    lines: list[OcrLine] = field(default_factory=list)
    angle: int = 0

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "lines": [{"text": ln.text, "location": ln.location} for ln in self.lines],
            "angle": self.angle,
        }


async def recognize(
    transport: VivoTransport,
    image: bytes,
    *,
    pos: int = 2,
    business_id: str = DEFAULT_BUSINESS_ID,
    credentials: tuple[str, str] | None = None,
) -> OcrResult:
    """Recognise text in ``image`` (jpg/png/bmp bytes).

    ``pos``: 0 text only; 1 text with absolute pixel corners; 2 text with relative corners.
    """
    if pos not in POSITIONS:
        raise VivoBadRequest("OCR pos must be 0, 1 or 2")
    if not image:
        raise VivoBadRequest("the image to recognise is empty")
    form = {
        "image": base64.b64encode(image).decode("ascii"),
        "pos": str(pos),
        "businessid": business_id,
        "sessid": str(uuid.uuid4()),
    }
    params = {"requestId": str(uuid.uuid4())} if transport.settings.auth == "bearer" else None
    answer = await transport.request_json(
        OCR_PATH, params=params, data=form, credentials=credentials, code_key=None
    )
    return parse_result(answer)


def parse_result(answer: dict[str, Any]) -> OcrResult:
    """Turn vivo's OCR body (any ``pos``) into an :class:`OcrResult`; map ``error_code``."""
    code = answer.get("error_code", 0)
    if code:
        message = str(answer.get("error_msg") or "")
        if int(code) == 2:
            raise VivoBadRequest(f"vivo could not read the image: {message or 'image error'}")
        raise error_from_code(int(code), message or "ocr fail")
    result = answer.get("result")
    if not isinstance(result, dict):
        raise VivoUpstreamError("vivo OCR answered without a result")
    angle = result.get("angle", 0)
    located = result.get("OCR")
    if isinstance(located, list) and located:
        lines = [_located_line(item) for item in located if isinstance(item, dict)]
    else:
        lines = _plain_lines(result.get("words"))
    return OcrResult(lines=lines, angle=int(angle) if isinstance(angle, (int, float)) else 0)


def _plain_lines(words: Any) -> list[OcrLine]:
    if isinstance(words, str):  # seen occasionally instead of a list (§8)
        return [OcrLine(t) for t in words.splitlines() if t.strip()]
    if not isinstance(words, list):
        return []
    return [OcrLine(str(w.get("words", ""))) for w in words if isinstance(w, dict)]


def _located_line(item: dict[str, Any]) -> OcrLine:
    raw = item.get("location")
    location = None
    if isinstance(raw, dict):
        location = {
            corner: {"x": float(raw[corner].get("x", 0)), "y": float(raw[corner].get("y", 0))}
            for corner in _CORNERS
            if isinstance(raw.get(corner), dict)
        }
    return OcrLine(text=str(item.get("words", "")), location=location)
