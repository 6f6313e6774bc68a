"""Probe and decode media files with ffprobe/ffmpeg subprocesses, bounded in time.

The content decides what a file is, never its extension: ffprobe reads the container and we require
an audio stream. Decoding goes straight to 16 kHz mono float32, the format every model here expects.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.errors import EmptyMedia, InvalidMedia, MediaTooLong

SAMPLE_RATE = 16000
PROBE_TIMEOUT_S = 30.0
DECODE_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class MediaInfo:
    """What ffprobe found: the container and its first audio stream."""

    duration_s: float
    format_name: str
    codec: str
    channels: int
    sample_rate: int


def probe(path: str | Path, timeout_s: float = PROBE_TIMEOUT_S) -> MediaInfo:
    """Inspect a file and return its audio properties.

    Raises :class:`InvalidMedia` when ffprobe cannot read it or it has no audio stream, and
    :class:`EmptyMedia` when the audio lasts zero seconds.
    """
    data = _ffprobe_json(Path(path), timeout_s)
    streams = [s for s in data.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise InvalidMedia("The file has no audio stream.")
    stream, fmt = streams[0], data.get("format", {})
    duration = _first_float(stream.get("duration"), fmt.get("duration"))
    if duration is None:
        raise InvalidMedia("The file's audio duration cannot be determined.")
    if duration <= 0.0:
        raise EmptyMedia("The file contains no audio.")
    return MediaInfo(
        duration_s=duration,
        format_name=str(fmt.get("format_name", "")),
        codec=str(stream.get("codec_name", "")),
        channels=int(stream.get("channels") or 0),
        sample_rate=int(stream.get("sample_rate") or 0),
    )


def decode(
    path: str | Path,
    sample_rate: int = SAMPLE_RATE,
    max_duration_s: float | None = None,
    timeout_s: float = DECODE_TIMEOUT_S,
) -> np.ndarray:
    """Decode the first audio stream to mono float32 at ``sample_rate``.

    ``max_duration_s`` bounds the work: ffmpeg stops reading just past the limit and
    :class:`MediaTooLong` is raised, so a huge file cannot hold a worker for long.
    """
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path)]
    if max_duration_s is not None:
        cmd += ["-t", f"{max_duration_s + 1.0:.3f}"]
    cmd += ["-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "-"]
    out = _run(cmd, timeout_s, "decode")
    audio = np.frombuffer(out, dtype=np.float32).copy()
    if audio.size == 0:
        raise EmptyMedia("The file contains no audio.")
    if max_duration_s is not None and audio.size > max_duration_s * sample_rate:
        raise MediaTooLong(f"The audio is longer than the {max_duration_s:g} s limit.")
    return audio


def _ffprobe_json(path: Path, timeout_s: float) -> dict:
    cmd = [
        "ffprobe", "-v", "error", "-print_format", "json",
        "-show_format", "-show_streams", str(path),
    ]  # fmt: skip
    out = _run(cmd, timeout_s, "probe")
    try:
        return json.loads(out or b"{}")
    except json.JSONDecodeError as exc:
        raise InvalidMedia("The file is not readable audio or video.") from exc


def _run(cmd: list[str], timeout_s: float, what: str) -> bytes:
    """Run an ffmpeg tool; any failure means the media is unreadable, not that we have a bug."""
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise InvalidMedia(f"The media took longer than {timeout_s:g} s to {what}.") from exc
    if proc.returncode != 0:
        raise InvalidMedia("The file is not readable audio or video, or it is corrupt.")
    return proc.stdout


def _first_float(*values: object) -> float | None:
    for value in values:
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    return None
