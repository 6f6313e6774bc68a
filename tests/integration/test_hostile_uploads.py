"""A corpus of hostile uploads and ids against the real gateway: every one gets a JSON 4xx in our
shape (or is accepted when it really is audio), none a 500, none hangs, none leaks a secret."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import pytest

from tests.integration.conftest import TEST_APP_KEY

pytestmark = pytest.mark.integration

SECRETS = ("auralab-test-secret", TEST_APP_KEY)
UUID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True, timeout=60)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("hostile")
    _ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "1", str(root / "silence.wav"))
    _ffmpeg("-f", "lavfi", "-i", "sine=f=440:r=16000", "-t", "3", str(root / "tone.mp3"))
    _ffmpeg("-f", "lavfi", "-i", "color=c=red:s=32x32", "-frames:v", "1", str(root / "image.png"))
    _ffmpeg("-f", "lavfi", "-i", "aevalsrc=" + "|".join(["0"] * 9) + ":s=16000:d=1", str(root / "nine.wav"))
    files = {p.stem: p.read_bytes() for p in root.iterdir()}
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("song.wav", files["silence"])
    files["zip"] = zipped.getvalue()
    return files


def _post(client, content: bytes, name: str = "clip.wav", **fields: str):
    return client.post("/whisperx/process", files={"file": (name, content, "audio/wav")}, data=fields)


def _assert_refused(response, status: int | tuple[int, ...], codes: tuple[str, ...] | None = None) -> dict:
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, response.text
    body = response.json()
    assert body["success"] is False and body["request_id"]
    assert codes is None or body["error"] in codes, body
    _assert_no_secrets(response)
    return body


def _assert_no_secrets(response) -> None:
    text = response.text + str(dict(response.headers))
    assert not any(secret in text for secret in SECRETS)
    assert "Traceback" not in text


def test_media_that_is_not_audio_is_refused_as_invalid_audio(serve_app, media):
    cases = {
        "empty": b"",
        "random": os.urandom(64 * 1024),
        "zip": media["zip"],
        "pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        "image_only": media["image"],
        "wrong_magic": b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(4096),
        "header_only_wav": media["silence"][:44],
        "text": b"hello, I am definitely an mp3\n" * 100,
        "nine_channels": media["nine"],
    }
    with serve_app.client(timeout=60) as client:
        for name, content in cases.items():
            started = time.monotonic()
            body = _assert_refused(
                _post(client, content, f"{name}.mp3"), 400, ("invalid_audio", "empty_audio")
            )
            assert time.monotonic() - started < 30, name
            assert name != "nine_channels" or "channels" in body["message"]


def test_playlists_are_refused_before_ffmpeg_can_follow_them(serve_app):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    contacted = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not contacted.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            contacted.set()
            conn.close()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    hls = (
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:10,\nhttp://127.0.0.1:{port}/secret.wav\n#EXTINF:10,\n/etc/passwd\n#EXT-X-ENDLIST\n"
    ).encode()
    concat = b"ffconcat version 1.0\nfile /etc/passwd\n"
    try:
        with serve_app.client() as client:
            for content, name in (
                (hls, "list.m3u8"),
                (b"\xef\xbb\xbf  " + hls, "song.mp3"),
                (concat, "x.wav"),
            ):
                _assert_refused(_post(client, content, name), 400, ("invalid_audio",))
        time.sleep(0.5)
    finally:
        contacted_any = contacted.is_set()
        contacted.set()
        thread.join(timeout=5)
        listener.close()
    assert not contacted_any, "the gateway fetched a URL named inside an upload"


def test_real_audio_is_accepted_whatever_its_name_and_names_are_sanitised(serve_app, media):
    names = [
        "../../../etc/cron.d/evil.wav",
        "..\\..\\boot.ini",
        "%2e%2e%2fescape.mp3",
        "ünï cödé.wav",
        "....",
    ]
    with serve_app.client() as client:
        for name in names:
            response = _post(client, media["tone"], name)
            assert response.status_code == 200, (name, response.text)
            filename = response.json()["filename"]
            assert "/" not in filename and "\\" not in filename and not filename.startswith(".")
            assert filename.isascii() and 0 < len(filename) <= 100
            client.delete(f"/whisperx/tasks/{response.json()['task_id']}")


def test_malformed_and_oversized_multipart_bodies(serve_app, media):
    boundary = "hostile-boundary"
    header = "multipart/form-data; boundary=" + boundary

    def raw(parts: bytes):
        return client.post("/whisperx/process", content=parts, headers={"Content-Type": header})

    huge_header = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
            f"X-Padding: {'A' * 64 * 1024}\r\n\r\n"
        ).encode()
        + media["silence"]
        + f"\r\n--{boundary}--\r\n".encode()
    )
    many_headers = (
        f"--{boundary}\r\n"
        + "".join(f"X-H{i}: v\r\n" for i in range(100))
        + 'Content-Disposition: form-data; name="a"\r\n\r\nx\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    with serve_app.client() as client:
        _assert_refused(raw(huge_header), 400)
        _assert_refused(raw(many_headers), 400)
        _assert_refused(raw(b"this is not multipart at all" * 100), 400)
        _assert_refused(raw(f"--{boundary}\r\nContent-Disposition: form-data\r\n".encode()), 400)
        _assert_refused(_post(client, media["silence"], "a.wav", note="x" * (100 * 1024)), 413)
        many = {f"f{i}": "v" for i in range(40)}
        _assert_refused(_post(client, media["silence"], "a.wav", **many), 400)
        _assert_refused(_post(client, b"\0" * (6 * 1024 * 1024), "big.wav"), 413, ("file_too_large",))
        _assert_refused(client.post("/whisperx/process", json={"file": "x"}), 415)
        no_file = client.post("/whisperx/process", files={"other": ("a.wav", media["silence"])})
        _assert_refused(no_file, 400)
        two_files = client.post(
            "/whisperx/process",
            files=[("file", ("a.wav", media["silence"])), ("file", ("b.wav", media["silence"]))],
        )
        _assert_refused(two_files, 400)


def test_hostile_ids_and_paths(serve_app):
    paths = [
        "/whisperx/status/..%2F..%2Fetc%2Fpasswd",
        "/whisperx/status/" + UUID.upper(),
        "/whisperx/status/" + "a" * 5000,
        f"/whisperx/download/{UUID}/..%2F..%2Fsecret",
        "/whisperx/download/..%2Ftasks/transcription",
        "/whisperx/result/%00",
        "/model?model=whisperx&action=status&task_id=../../tasks/x",
        "/model?model=whisperx&action=download&task_id=" + UUID + "&file_name=../../etc/passwd",
        "/whisperx/tasks?limit=999999999999999999999",
        "/whisperx/tasks?status=%27%3B--",
    ]
    with serve_app.client() as client:
        for path in paths:
            _assert_refused(client.get(path), (400, 404, 422))
        _assert_refused(client.delete("/whisperx/tasks/..%2F..%2Fqueue"), (400, 404))
        _assert_refused(client.delete(f"/whisperx/tasks/{UUID}"), 404)


@pytest.mark.parametrize("tool", ["probe", "decode"])
def test_a_file_that_never_ends_cannot_hang_decoding(tmp_path, tool):
    """A FIFO with no writer blocks ffmpeg's read forever: the subprocess timeout must end it."""
    from models import audio
    from models.errors import InvalidMedia

    fifo = tmp_path / "never.wav"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(InvalidMedia, match="took longer"):
        if tool == "probe":
            audio.probe(Path(fifo), timeout_s=2.0)
        else:
            audio.decode(Path(fifo), timeout_s=2.0)
    assert time.monotonic() - started < 10
