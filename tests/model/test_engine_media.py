"""Media probing and decoding: the content decides, every container the app uploads works,
and bad files fail with the error a client can act on."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from models.audio import decode, probe
from models.engine import ChunkRequest, WhisperEngine
from models.errors import EmptyMedia, InvalidMedia, MediaTooLong
from models.weights import resolve_model
from tests.helpers.speech import SAMPLE_RATE, say, word_error_rate

pytestmark = pytest.mark.model

SENTENCE = "Please call Stella and ask her to bring these things from the store."


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error", *args], check=True, timeout=60)


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> WhisperEngine:
    model_dir = resolve_model("base", tmp_path_factory.mktemp("models"))
    return WhisperEngine(model_dir, device="cpu", compute_type="int8", cpu_threads=2)


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory):
    return say(SENTENCE, tmp_path_factory.mktemp("media") / "speech")


@pytest.mark.parametrize("fmt", ["mp3", "m4a", "ogg", "flac", "webm"])
def test_audio_containers_probe_and_decode(tmp_path, speech_wav, fmt):
    path = tmp_path / f"clip.{fmt}"
    codec = {"mp3": "libmp3lame", "m4a": "aac", "ogg": "libvorbis", "flac": "flac", "webm": "libopus"}[fmt]
    ffmpeg("-i", str(speech_wav), "-c:a", codec, str(path))
    info = probe(path)
    assert 3.0 < info.duration_s < 6.0 and info.channels == 1
    audio = decode(path)
    assert audio.dtype == np.float32 and abs(len(audio) / SAMPLE_RATE - info.duration_s) < 0.2


@pytest.mark.parametrize("fmt", ["mp4", "mov", "avi"])
def test_video_with_an_audio_track_is_accepted(tmp_path, speech_wav, fmt):
    path = tmp_path / f"clip.{fmt}"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=32x32:d=4", "-i", str(speech_wav), "-shortest", str(path))
    assert probe(path).codec
    assert len(decode(path)) > 2 * SAMPLE_RATE


def test_extension_is_not_trusted(tmp_path, speech_wav):
    disguised = tmp_path / "notes.txt"
    ffmpeg("-i", str(speech_wav), "-f", "mp3", str(disguised))
    assert probe(disguised).format_name == "mp3"
    fake = tmp_path / "song.mp3"
    fake.write_text("this is plain text, not audio\n" * 20)
    with pytest.raises(InvalidMedia) as caught:
        probe(fake)
    assert caught.value.status == 400 and caught.value.code == "invalid_audio"


def test_corrupt_and_truncated_files(tmp_path, speech_wav):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF" + bytes(range(256)) * 8)
    with pytest.raises(InvalidMedia):
        probe(junk)
    with pytest.raises(InvalidMedia):
        decode(junk)


def test_video_without_audio_and_empty_audio(tmp_path):
    silent_video = tmp_path / "video.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=32x32:d=1", str(silent_video))
    with pytest.raises(InvalidMedia, match="no audio stream"):
        probe(silent_video)
    empty = tmp_path / "empty.wav"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "0", str(empty))
    with pytest.raises((EmptyMedia, InvalidMedia)) as caught:
        probe(empty)
    assert caught.value.status == 400
    with pytest.raises(EmptyMedia) as caught_decode:
        decode(empty)
    assert caught_decode.value.code == "empty_audio"


def test_too_long_audio_stops_early(tmp_path):
    long_file = tmp_path / "long.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "12", str(long_file))
    with pytest.raises(MediaTooLong) as caught:
        decode(long_file, max_duration_s=5)
    assert caught.value.status == 413
    assert len(decode(long_file, max_duration_s=20)) == 12 * SAMPLE_RATE


@pytest.mark.parametrize("fmt", ["mp3", "m4a"])
def test_compressed_speech_transcribes(engine, tmp_path, fmt):
    path = say(SENTENCE, tmp_path / "speech", fmt=fmt)
    (result,) = engine.transcribe_batch([ChunkRequest(decode(path), "en")])
    assert word_error_rate(SENTENCE, " ".join(s.text for s in result.segments)) < 0.2
