"""Long speech transcription wire flow against a scripted vivo."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.emulator.mock_transport import ScriptedVivo, ok
from vivo import LasrJob, LasrSentence, VivoBadRequest, VivoUnavailable, VivoUpstreamError

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]


def envelope(data=None, code=0, desc="success"):
    return ok(
        {
            "sid": "s",
            "action": "error" if code else "result",
            "data": data or {},
            "code": code,
            "desc": desc,
            "type": "asr",
        }
    )


def happy_flow(slices: int, progress=(40, 100)):
    answers = [envelope({"audio_id": "aid"})]
    answers += [envelope({"total": slices, "slices": i + 1, "audio_id": "aid"}) for i in range(slices)]
    answers.append(envelope({"task_id": "tid"}))
    answers += [envelope({"progress": p}) for p in progress]
    answers.append(
        envelope(
            {
                "result": [
                    {"onebest": "播放歌曲摇篮曲。", "bg": 0, "ed": 2190, "speaker": 1},
                    {"onebest": "好的。", "bg": 2190, "ed": 3000},
                ]
            }
        )
    )
    return ScriptedVivo(*answers)


async def test_full_flow_sends_the_five_steps_in_order(tmp_path):
    audio = bytes(range(256)) * 10  # 2560 bytes → 3 slices of 1000
    path = tmp_path / "talk.wav"
    path.write_bytes(audio)
    vivo = happy_flow(3)
    seen: list[int] = []
    async with vivo.client() as client:
        job = await client.lasr_start(path, slice_bytes=1000)
        assert (job.audio_id, job.task_id) == ("aid", "tid")
        sentences = await client.lasr_wait(job, on_progress=seen.append, poll_interval_s=0)
    steps = [r.url.path for r in vivo.requests]
    assert steps == ["/lasr/create"] + ["/lasr/upload"] * 3 + [
        "/lasr/run",
        "/lasr/progress",
        "/lasr/progress",
        "/lasr/result",
    ]
    assert vivo.json_body(0)["slice_num"] == 3 and vivo.json_body(0)["audio_type"] == "auto"
    uploads = vivo.requests[1:4]
    assert [u.url.params["slice_index"] for u in uploads] == ["0", "1", "2"]
    assert all(u.url.params["audio_id"] == "aid" for u in uploads)
    received = b"".join(_file_part(u) for u in uploads)
    assert received == audio
    assert seen == [40, 100]
    assert sentences == [
        LasrSentence("播放歌曲摇篮曲。", 0, 2190, 1),
        LasrSentence("好的。", 2190, 3000, None),
    ]
    assert sentences[0].to_dict() == {"onebest": "播放歌曲摇篮曲。", "bg": 0, "ed": 2190, "speaker": 1}


def _file_part(request: httpx.Request) -> bytes:
    body = request.content
    assert b'name="file"; filename=' in body
    _, _, rest = body.partition(b"\r\n\r\n")
    return rest.rsplit(b"\r\n--", 1)[0]


async def test_common_params_on_every_step_with_system_time_in_ms():
    vivo = happy_flow(1, progress=(100,))
    async with vivo.client() as client:
        await client.transcribe_long(b"abc", poll_interval_s=0)
    session_ids = set()
    for request in vivo.requests:
        params = request.url.params
        assert params["engineid"] == "fileasrrecorder" and params["client_version"] == "2.0"
        assert params["package"] == "pack" and len(params["user_id"]) == 32
        assert abs(int(params["system_time"]) / 1000 - time.time()) < 60
        if request.url.path != "/lasr/upload":
            session_ids.add(vivo.json_body(vivo.requests.index(request))["x-sessionId"])
        else:
            session_ids.add(params["x-sessionId"])
    assert len(session_ids) == 1


async def test_async_progress_callback_is_awaited():
    vivo = happy_flow(1, progress=(50, 100))
    calls = []

    async def report(value: int) -> None:
        calls.append(value)

    async with vivo.client() as client:
        await client.transcribe_long(b"abc", on_progress=report, poll_interval_s=0)
    assert calls == [50, 100]


async def test_create_error_code_is_raised_with_vivos_desc():
    vivo = ScriptedVivo(envelope(code=10002, desc="slice_num exceeds 100"))
    async with vivo.client() as client:
        with pytest.raises(VivoBadRequest, match="slice_num exceeds 100"):
            await client.lasr_start(b"abc")
    assert len(vivo.requests) == 1


async def test_upload_code_20005_counts_as_already_uploaded():
    vivo = ScriptedVivo(
        envelope({"audio_id": "a"}), envelope(code=20005, desc="exists"), envelope({"task_id": "t"})
    )
    async with vivo.client() as client:
        job = await client.lasr_start(b"abc")
    assert job.task_id == "t"


async def test_upload_failure_stops_the_flow():
    vivo = ScriptedVivo(envelope({"audio_id": "a"}), envelope(code=10105, desc="store failed"))
    async with vivo.client() as client:
        with pytest.raises(VivoUpstreamError, match="store failed"):
            await client.lasr_start(b"abc")
    assert [r.url.path for r in vivo.requests] == ["/lasr/create", "/lasr/upload"]


async def test_run_is_not_resent_after_a_timeout():
    vivo = ScriptedVivo(envelope({"audio_id": "a"}), envelope({}), httpx.ReadTimeout("slow"))
    async with vivo.client(max_retries=3) as client:
        with pytest.raises(VivoUnavailable):
            await client.lasr_start(b"abc")
    assert [r.url.path for r in vivo.requests].count("/lasr/run") == 1


async def test_too_many_slices_and_empty_audio_fail_before_any_call():
    vivo = ScriptedVivo(envelope())
    async with vivo.client() as client:
        with pytest.raises(VivoBadRequest, match="at most 100"):
            await client.lasr_start(b"x" * 101, slice_bytes=1)
        with pytest.raises(VivoBadRequest, match="empty"):
            await client.lasr_start(b"")
    assert vivo.requests == []


async def test_wait_gives_up_at_its_deadline():
    vivo = ScriptedVivo(envelope({"progress": 10}))
    async with vivo.client() as client:
        with pytest.raises(VivoUnavailable, match="did not finish"):
            await client.lasr_wait(LasrJob("s", "a", "t"), poll_interval_s=0.05, timeout_s=0.2)
