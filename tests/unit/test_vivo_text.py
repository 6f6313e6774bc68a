"""Translation, OCR and rerank mappings."""

from __future__ import annotations

import base64

import pytest

from tests.emulator.mock_transport import ScriptedVivo, ok
from vivo import VivoBadRequest, VivoUpstreamError
from vivo.ocr import parse_result
from vivo.translate import vivo_language

pytestmark = pytest.mark.unit

OCR_EXAMPLE = {
    "error_code": 0,
    "error_msg": "succ",
    "result": {
        "words": [{"words": "取消"}, {"words": "编辑"}],
        "OCR": [
            {
                "words": "取消",
                "location": {
                    "top_left": {"x": 658.0, "y": 1130.0},
                    "top_right": {"x": 893.0, "y": 1130.0},
                    "down_left": {"x": 658.0, "y": 1174.0},
                    "down_right": {"x": 893.0, "y": 1174.0},
                },
            },
            {
                "words": "编辑",
                "location": {
                    "top_left": {"x": 1, "y": 2},
                    "top_right": {"x": 3, "y": 2},
                    "down_left": {"x": 1, "y": 4},
                    "down_right": {"x": 3, "y": 4},
                },
            },
        ],
        "angle": 90,
    },
}


@pytest.mark.parametrize(
    ("code", "vivo"),
    [("zh", "zh-CHS"), ("zh-CN", "zh-CHS"), ("EN", "en"), ("ja", "ja"), ("ko", "ko"), ("auto", "auto")],
)
def test_language_mapping(code, vivo):
    assert vivo_language(code) == vivo


@pytest.mark.parametrize("code", ["fr", "de", "ar", ""])
def test_unsupported_languages_are_bad_requests(code):
    with pytest.raises(VivoBadRequest, match="supported: zh, en, ja, ko"):
        vivo_language(code)


def test_auto_is_not_a_target():
    with pytest.raises(VivoBadRequest):
        vivo_language("auto", as_target=True)


@pytest.mark.asyncio
async def test_translate_posts_a_form_and_reads_the_translation():
    vivo = ScriptedVivo(
        ok(
            {
                "code": 0,
                "data": {"text": "我很好", "from": "zh-CHS", "to": "en", "translation": "I'm fine"},
                "msg": "",
                "requestId": "r",
            }
        )
    )
    async with vivo.client() as client:
        result = await client.translate("我很好", "zh", "en")
    request = vivo.requests[0]
    assert request.url.path == "/translation/query/self" and not request.url.params
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    from urllib.parse import parse_qs

    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    assert form["from"] == "zh-CHS" and form["to"] == "en" and form["text"] == "我很好"
    assert form["app"] == "test" and form["requestId"]
    assert result.translation == "I'm fine"


@pytest.mark.asyncio
async def test_translate_refuses_before_calling_vivo():
    vivo = ScriptedVivo(ok({}))
    async with vivo.client() as client:
        with pytest.raises(VivoBadRequest):
            await client.translate("bonjour", "fr", "en")
        with pytest.raises(VivoBadRequest, match="1200"):
            await client.translate("字" * 1201, "zh", "en")
        same = await client.translate("hello", "en", "en")
    assert same.translation == "hello"
    assert vivo.requests == []


@pytest.mark.asyncio
async def test_translate_parameter_error_code():
    vivo = ScriptedVivo(ok({"code": 20000, "data": None, "msg": "parameter error"}))
    async with vivo.client() as client:
        with pytest.raises(VivoBadRequest, match="parameter error"):
            await client.translate("hi", "en", "zh")


def test_ocr_pos2_uses_located_lines_with_lower_case_keys():
    result = parse_result(OCR_EXAMPLE).to_dict()
    assert result["text"] == "取消\n编辑" and result["angle"] == 90
    assert result["lines"][0]["location"]["top_left"] == {"x": 658.0, "y": 1130.0}
    assert set(result["lines"][1]["location"]) == {"top_left", "top_right", "down_left", "down_right"}


def test_ocr_pos0_words_only_and_plain_string_variant():
    words_only = {"error_code": 0, "result": {"words": [{"words": "a"}, {"words": "b"}], "angle": 0}}
    assert parse_result(words_only).to_dict() == {
        "text": "a\nb",
        "lines": [{"text": "a", "location": None}, {"text": "b", "location": None}],
        "angle": 0,
    }
    assert parse_result({"error_code": 0, "result": {"words": "x\ny"}}).text == "x\ny"
    assert parse_result({"error_code": 0, "result": {"words": [], "OCR": []}}).to_dict()["lines"] == []


def test_ocr_error_codes():
    with pytest.raises(VivoBadRequest):
        parse_result({"error_code": 2, "error_msg": "no parameter image"})
    with pytest.raises(VivoUpstreamError, match="ocr fail"):
        parse_result({"error_code": 1, "error_msg": "ocr fail"})


@pytest.mark.asyncio
async def test_ocr_request_form():
    vivo = ScriptedVivo(ok(OCR_EXAMPLE))
    async with vivo.client() as client:
        await client.ocr(b"\x89PNGdata", pos=1)
        with pytest.raises(VivoBadRequest):
            await client.ocr(b"img", pos=3)
    from urllib.parse import parse_qs

    form = {k: v[0] for k, v in parse_qs(vivo.requests[0].content.decode()).items()}
    assert base64.b64decode(form["image"]) == b"\x89PNGdata"
    assert form["pos"] == "1" and form["businessid"] == "1990173156ceb8a09eee80c293135279"
    assert len(vivo.requests) == 1


@pytest.mark.asyncio
async def test_rerank_body_and_scores():
    vivo = ScriptedVivo(ok({"data": [-8.06, 2.5]}))
    async with vivo.client() as client:
        scores = await client.rerank("I am fine", ["我很好", "I'm fine"])
    assert scores == [-8.06, 2.5]
    assert vivo.json_body() == {
        "model_name": "bge-reranker-large",
        "query": "I am fine",
        "sentences": ["我很好", "I'm fine"],
    }


@pytest.mark.asyncio
async def test_rerank_count_mismatch_is_an_upstream_error():
    vivo = ScriptedVivo(ok({"data": [1.0]}))
    async with vivo.client() as client:
        with pytest.raises(VivoUpstreamError):
            await client.rerank("q", ["a", "b"])


@pytest.mark.asyncio
async def test_translate_maps_and_checks_the_target_too():
    vivo = ScriptedVivo(ok({"code": 0, "data": {"translation": "你好"}, "msg": ""}))
    async with vivo.client() as client:
        with pytest.raises(VivoBadRequest, match="target language 'fr'"):
            await client.translate("hello", "en", "fr")
        assert len(vivo.requests) == 0
        result = await client.translate("hello", "en", "zh")
    assert vivo.requests[0].content.decode().count("to=zh-CHS") == 1
    assert (result.translation, result.target) == ("你好", "zh-CHS")
