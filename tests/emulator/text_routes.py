"""Emulated translation (§7), OCR (§8) and rerank (§9.1), all deterministic."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from tests.emulator.calls import Call, begin
from tests.emulator.state import EmulatorState

SOURCE_LANGUAGES = {"zh-CHS", "en", "ja", "ko", "auto"}
TARGET_LANGUAGES = {"zh-CHS", "en", "ja", "ko"}
DICTIONARY = {
    ("你好", "en"): "Hello",
    ("hello", "zh-CHS"): "你好",
    ("我很好", "en"): "I'm fine",
    ("good morning", "ja"): "おはようございます",
}
OCR_LINES = ("AuraLab OCR", "第二行文字")
RERANK_MODELS = {"bge-reranker-large", "bge-reranker-v2-m3"}


def translation_of(text: str, target: str) -> str:
    """Dictionary hits for a few phrases, else ``[<target>] <text>``."""
    return DICTIONARY.get((text.strip().lower() if text.isascii() else text.strip(), target)) or (
        f"[{target}] {text}"
    )


def _fields(call: Call) -> dict[str, str]:
    """Form-urlencoded or JSON body, as vivo's own samples disagree (§7)."""
    content_type = call.record.headers.get("content-type", "")
    if "json" in content_type:
        try:
            loaded = json.loads(call.record.body or b"{}")
        except ValueError:
            return {}
        return {k: str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
    return dict(parse_qsl(call.record.body.decode("utf-8", "replace"), keep_blank_values=True))


def _translate(fields: dict[str, str], query: dict[str, str]) -> dict[str, Any]:
    request_id = fields.get("requestId") or query.get("requestId") or ""
    source, target, text = fields.get("from", ""), fields.get("to", ""), fields.get("text", "")
    if source not in SOURCE_LANGUAGES or target not in TARGET_LANGUAGES or not text:
        return {"code": 20000, "data": None, "msg": "parameter error", "requestId": request_id}
    if len(text) > 1200:
        return {"code": 20000, "data": None, "msg": "text too long", "requestId": request_id}
    data = {"text": text, "from": source, "to": target, "translation": translation_of(text, target)}
    return {"code": 0, "data": data, "msg": "", "requestId": request_id}


def _box(index: int, relative: bool) -> dict[str, dict[str, float]]:
    top, bottom, left, right = 10.0 + 40 * index, 40.0 + 40 * index, 10.0, 210.0
    scale = 1000.0 if relative else 1.0  # the emulator pretends every image is 1000x1000
    return {
        "top_left": {"x": left / scale, "y": top / scale},
        "top_right": {"x": right / scale, "y": top / scale},
        "down_left": {"x": left / scale, "y": bottom / scale},
        "down_right": {"x": right / scale, "y": bottom / scale},
    }


def ocr_result(image_b64: str, pos: str) -> dict[str, Any]:
    """vivo's OCR body for ``pos`` 0/1/2 (§8); the second line reports the decoded byte count."""
    if not image_b64:
        return {"error_code": 2, "error_msg": "no parameter image"}
    try:
        raw = base64.b64decode(image_b64, validate=True)
    except (binascii.Error, ValueError):
        return {"error_code": 2, "error_msg": "image error"}
    if not raw or pos not in ("0", "1", "2"):
        return {"error_code": 2, "error_msg": "image error"}
    lines = [OCR_LINES[0], f"{OCR_LINES[1]} {len(raw)}"]
    result: dict[str, Any] = {"angle": 0}
    if pos in ("0", "2"):
        result["words"] = [{"words": text} for text in lines]
    if pos in ("1", "2"):
        result["OCR"] = [
            {"words": text, "location": _box(i, relative=pos == "2")} for i, text in enumerate(lines)
        ]
    return {
        "error_code": 0,
        "error_msg": "succ",
        "result": result,
        "version": "ocr_emulator_v1",
        "support": "VIVO识图提供技术支持",
    }


def rerank_score(query: str, sentence: str) -> float:
    """Character-set Jaccard similarity mapped onto a logit-like -5…5 range."""
    a, b = set(query), set(sentence)
    overlap = len(a & b) / len(a | b) if a | b else 0.0
    return round(10 * overlap - 5, 4)


def build_router(state: EmulatorState) -> APIRouter:
    router = APIRouter()

    @router.post("/translation/query/self")
    async def translate(request: Request) -> Response:
        call = await begin(state, request, "translate")
        if call.early is not None:
            return call.early
        if call.injected_code is not None:
            return JSONResponse({"code": call.injected_code, "data": None, "msg": call.injected_msg})
        return JSONResponse(_translate(_fields(call), call.record.query))

    @router.post("/ocr/general_recognition")
    async def ocr(request: Request) -> Response:
        call = await begin(state, request, "ocr")
        if call.early is not None:
            return call.early
        if call.injected_code is not None:
            return JSONResponse({"error_code": call.injected_code, "error_msg": call.injected_msg})
        fields = _fields(call)
        return JSONResponse(ocr_result(fields.get("image", ""), fields.get("pos", "0")))

    @router.post("/rerank")
    async def rerank(request: Request) -> Response:
        call = await begin(state, request, "rerank")
        if call.early is not None:
            return call.early
        if call.injected_code is not None:
            return JSONResponse({"code": call.injected_code, "msg": call.injected_msg})
        body = call.record.json()
        sentences = body.get("sentences") or []
        if body.get("model_name") not in RERANK_MODELS or not body.get("query") or not sentences:
            return JSONResponse({"code": 1001, "msg": "param error"})
        return JSONResponse({"data": [rerank_score(body["query"], s) for s in sentences]})

    return router
