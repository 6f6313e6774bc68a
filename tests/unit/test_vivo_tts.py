"""TTS pieces that need no server: text splitting, voices, frames, WAV wrapping."""

from __future__ import annotations

import base64
import io
import struct
import wave

import pytest

from vivo import VivoBadRequest
from vivo.tts import build_frame, handshake_query, pcm_to_wav, resolve_voice, split_text, wav_header

pytestmark = pytest.mark.unit


def test_short_text_is_one_piece():
    assert split_text("你好，世界。") == ["你好，世界。"]


def test_multibyte_text_splits_under_2048_bytes_on_sentence_ends():
    sentence = "这是一个用于测试语音合成的中文句子。"  # 18 chars, 54 bytes
    text = sentence * 100  # 5400 bytes
    pieces = split_text(text)
    assert len(pieces) == 3
    assert "".join(pieces) == text
    for piece in pieces:
        assert len(piece.encode("utf-8")) <= 2048
        assert piece.endswith("。")


def test_text_without_punctuation_splits_on_character_boundaries():
    text = "语" * 1000 + "😀" * 300  # 3-byte and 4-byte characters, no break marks
    pieces = split_text(text, max_bytes=2048)
    assert "".join(pieces) == text
    assert all(len(p.encode("utf-8")) <= 2048 for p in pieces)
    assert len(pieces[0].encode("utf-8")) > 2040  # packed, not cut early


def test_clause_marks_are_used_when_no_sentence_end_fits():
    text = ("一二三四五，" * 200)[:-1]
    pieces = split_text(text, max_bytes=100)
    assert all(p.endswith("，") for p in pieces[:-1])


def test_empty_text_has_no_pieces():
    assert split_text("  \n ") == []


@pytest.mark.parametrize(
    ("mode", "engine", "vcn"),
    [
        (None, "tts_humanoid_lam", "M24"),
        ("", "tts_humanoid_lam", "M24"),
        ("human", "tts_humanoid_lam", "M24"),
        ("short", "short_audio_synthesis_jovi", "vivoHelper"),
        ("long", "long_audio_synthesis_screen", "x2_vivoHelper"),
        ("Long", "long_audio_synthesis_screen", "x2_vivoHelper"),
        ("tts_humanoid_lam", "tts_humanoid_lam", "M24"),
    ],
)
def test_modes_map_to_engines(mode, engine, vcn):
    voice = resolve_voice(mode)
    assert (voice.engine, voice.vcn) == (engine, vcn)


def test_old_default_mode_bug_is_rejected_not_forwarded():
    with pytest.raises(VivoBadRequest, match="unknown TTS mode"):
        resolve_voice("TTS_MODE_HUMAN")


def test_replica_needs_a_voice():
    with pytest.raises(VivoBadRequest):
        resolve_voice("replica")
    assert resolve_voice("replica", "my_clone").engine == "tts_replica"


def test_frame_fields():
    frame = build_frame("你好", resolve_voice("short", "yige"), speed=60, volume=80)
    assert frame["aue"] == 0 and frame["auf"] == "audio/L16;rate=24000" and frame["encoding"] == "utf8"
    assert frame["vcn"] == "yige" and base64.b64decode(frame["text"]).decode() == "你好"
    assert (frame["speed"], frame["volume"]) == (60, 80)
    assert "speed" not in build_frame("x", resolve_voice())


@pytest.mark.parametrize(("speed", "volume"), [(101, None), (-1, None), (None, 0), (None, 101)])
def test_frame_rejects_out_of_range_speed_and_volume(speed, volume):
    with pytest.raises(VivoBadRequest):
        build_frame("x", resolve_voice(), speed=speed, volume=volume)


def test_handshake_query_has_every_documented_field():
    query = handshake_query("tts_humanoid_lam", system_time=1700000000)
    assert query["engineid"] == "tts_humanoid_lam" and query["system_time"] == "1700000000"
    assert {
        "user_id",
        "model",
        "product",
        "package",
        "client_version",
        "system_version",
        "sdk_version",
        "android_version",
    } <= set(query)


def test_wav_header_is_the_canonical_44_bytes():
    pcm = b"\x01\x00" * 24000  # one second
    wav = pcm_to_wav(pcm)
    assert len(wav) == 44 + len(pcm)
    fields = struct.unpack("<4sI4s4sIHHIIHH4sI", wav[:44])
    assert fields == (
        b"RIFF",
        36 + len(pcm),
        b"WAVE",
        b"fmt ",
        16,
        1,
        1,
        24000,
        48000,
        2,
        16,
        b"data",
        len(pcm),
    )
    with wave.open(io.BytesIO(wav)) as reader:
        assert reader.getnframes() / reader.getframerate() == 1.0
    assert wav_header(len(pcm)) == wav[:44]


def test_streaming_header_claims_an_open_ended_length():
    header = wav_header()
    assert len(header) == 44 and header[:4] == b"RIFF"
    assert struct.unpack("<I", header[40:44])[0] > 2**31
