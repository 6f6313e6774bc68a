"""Chat wire mapping: bodies sent, replies read, SSE parsing, vision messages."""

from __future__ import annotations

import base64

import pytest

from tests.emulator.mock_transport import ScriptedVivo, chat_ok, ok, sse
from vivo import VivoBadRequest, VivoModerationError, VivoRateLimited, VivoUpstreamError

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]
MESSAGES = [{"role": "user", "content": "你好"}]


async def test_sync_chat_body_matches_the_go_sdk_shape():
    vivo = ScriptedVivo(chat_ok("回答"))
    async with vivo.client() as client:
        reply = await client.chat(MESSAGES, session_id="sess-1", request_id="req-1")
    request = vivo.requests[0]
    assert request.url.path == "/vivogpt/completions"
    assert request.url.params["requestId"] == "req-1"
    assert request.headers["content-type"] == "application/json"
    assert vivo.json_body() == {"model": "vivo-BlueLM-TB-Pro", "sessionId": "sess-1", "messages": MESSAGES}
    assert reply.content == "回答"


async def test_prompt_mode_with_system_prompt_and_extra():
    vivo = ScriptedVivo(chat_ok())
    async with vivo.client() as client:
        await client.chat(prompt="评价", system_prompt="你是老师", extra={"temperature": 0.5})
    body = vivo.json_body()
    assert body["prompt"] == "评价" and body["systemPrompt"] == "你是老师"
    assert body["extra"] == {"temperature": 0.5} and "messages" not in body


async def test_moderation_code_is_a_422():
    vivo = ScriptedVivo(ok({"code": 1007, "data": {}, "msg": "抱歉，当前输入的内容我无法处理。"}))
    async with vivo.client() as client:
        with pytest.raises(VivoModerationError) as info:
            await client.chat(MESSAGES)
    assert info.value.status == 422


async def test_reply_without_content_is_an_upstream_error():
    vivo = ScriptedVivo(ok({"code": 0, "data": {}, "msg": "done."}))
    async with vivo.client() as client:
        with pytest.raises(VivoUpstreamError):
            await client.chat(MESSAGES)


async def test_empty_chat_and_bad_roles_fail_before_sending():
    vivo = ScriptedVivo(chat_ok())
    async with vivo.client() as client:
        with pytest.raises(VivoBadRequest):
            await client.chat([])
        with pytest.raises(VivoBadRequest):
            await client.chat([{"role": "robot", "content": "x"}])
    assert vivo.requests == []


async def _collect(client, **kwargs):
    return [piece async for piece in client.chat_stream(MESSAGES, **kwargs)]


async def test_stream_yields_pieces_until_close():
    body = (
        'data:{"message":"你","type":"text"}\n\n'
        'data: {"message":"好","type":"text"}\n\n'
        "event:close\ndata:{}\n\n"
        'data:{"message":"after close"}\n\n'
    )
    vivo = ScriptedVivo(sse(body))
    async with vivo.client() as client:
        assert await _collect(client) == ["你", "好"]
    assert vivo.requests[0].url.path == "/vivogpt/completions/stream"
    assert vivo.requests[0].url.params["requestId"]


async def test_stream_done_marker_and_reply_field():
    vivo = ScriptedVivo(sse('data:{"reply":"a"}\n\ndata:[DONE]\n\n'))
    async with vivo.client() as client:
        assert await _collect(client) == ["a"]


async def test_stream_error_event_raises_the_mapped_error_after_pieces():
    body = 'data:{"message":"part"}\n\nevent:error\ndata:{"code":30001,"msg":"hit model rate limit"}\n\n'
    vivo = ScriptedVivo(sse(body))
    pieces = []
    async with vivo.client() as client:
        with pytest.raises(VivoRateLimited):
            async for piece in client.chat_stream(MESSAGES):
                pieces.append(piece)
    assert pieces == ["part"]


async def test_stream_antispam_raises_moderation_with_vivos_text():
    vivo = ScriptedVivo(sse('event:antispam\ndata:{"reply":"抱歉，无法回答"}\n\n'))
    async with vivo.client() as client:
        with pytest.raises(VivoModerationError, match="抱歉，无法回答"):
            await _collect(client)


async def test_stream_http_error_before_data_is_retried():
    vivo = ScriptedVivo(ok({}, 503), sse('data:{"message":"ok"}\n\nevent:close\n\n'))
    async with vivo.client() as client:
        assert await _collect(client) == ["ok"]
    assert len(vivo.requests) == 2


async def test_vision_chat_sends_image_as_jpeg_data_url_with_content_type():
    image = b"\xff\xd8\xff\xe0fake-jpeg"
    vivo = ScriptedVivo(chat_ok("一只猫"))
    async with vivo.client() as client:
        reply = await client.vision_chat(image, "图里有什么？")
    body = vivo.json_body()
    assert body["model"] == "vivo-BlueLM-V-2.0"
    image_msg, text_msg = body["messages"]
    assert image_msg == {
        "role": "user",
        "content": "data:image/JPEG;base64," + base64.b64encode(image).decode(),
        "contentType": "image",
    }
    assert text_msg == {"role": "user", "content": "图里有什么？", "contentType": "text"}
    assert reply.content == "一只猫"


async def test_vision_chat_rejects_text_models_and_empty_images_before_sending():
    vivo = ScriptedVivo(chat_ok())
    async with vivo.client() as client:
        with pytest.raises(VivoBadRequest, match="not a vision model"):
            await client.vision_chat(b"img", "q", model="vivo-BlueLM-TB-Pro")
        with pytest.raises(VivoBadRequest):
            await client.vision_chat(b"", "q")
    assert vivo.requests == []
