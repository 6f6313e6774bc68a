"""Speech generation with espeak-ng for model tests and benchmarks, plus a word error rate.

espeak-ng is deterministic and offline, so tests can assert on the words a model hears.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000

# ffmpeg arguments per target container; wav is espeak's own output.
_ENCODERS: dict[str, list[str]] = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "64k"],
    "m4a": ["-c:a", "aac", "-b:a", "64k"],
    "ogg": ["-c:a", "libvorbis"],
    "flac": ["-c:a", "flac"],
    "webm": ["-c:a", "libopus"],
}


def say(text: str, path: Path, voice: str = "en-us", speed: int = 150, fmt: str = "wav") -> Path:
    """Synthesize ``text`` to ``path`` (extension set from ``fmt``) and return the file's path."""
    path = Path(path).with_suffix(f".{fmt}")
    wav = path if fmt == "wav" else path.with_name(path.stem + ".src.wav")
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    if fmt != "wav":
        _ffmpeg(["-i", str(wav), *_ENCODERS[fmt], str(path)])
        wav.unlink()
    return path


def say_array(text: str, voice: str = "en-us", speed: int = 150) -> np.ndarray:
    """Synthesize ``text`` straight to 16 kHz mono float32 samples."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
        check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    pcm = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", "-", "-ac", "1", "-ar", str(SAMPLE_RATE),
         "-f", "f32le", "-"],
        input=wav, check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    return np.frombuffer(pcm, dtype=np.float32).copy()


def concat_with_silence(clips: list[np.ndarray], gap_s: float = 1.0, lead_s: float = 0.0) -> np.ndarray:
    """Join clips with ``gap_s`` of silence between them (and ``lead_s`` before the first)."""
    gap = np.zeros(int(gap_s * SAMPLE_RATE), dtype=np.float32)
    parts = [np.zeros(int(lead_s * SAMPLE_RATE), dtype=np.float32)]
    for index, clip in enumerate(clips):
        parts += [gap, clip] if index else [clip]
    return np.concatenate(parts).astype(np.float32)


def write_wav(samples: np.ndarray, path: Path) -> Path:
    """Write 16 kHz float samples to a 16-bit PCM WAV file."""
    _ffmpeg(["-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "-", str(path)],
            stdin=samples.astype(np.float32).tobytes())  # fmt: skip
    return Path(path)


def normalize(text: str) -> list[str]:
    """Lower-case words without punctuation, so WER measures words, not formatting."""
    return re.sub(r"[^\w\s']", " ", text.lower()).replace("'", "").split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over normalised words divided by the reference length."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref:
        return float(bool(hyp))
    row = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        prev_diag, row[0] = row[0], i
        for j, hyp_word in enumerate(hyp, start=1):
            prev_diag, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev_diag + (ref_word != hyp_word))
    return row[-1] / len(ref)


def _ffmpeg(args: list[str], stdin: bytes | None = None) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-loglevel", "error", *args],
        input=stdin, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
