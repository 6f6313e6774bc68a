"""The Whisper engine: serves chunks from many callers in as few forward passes as possible.

Two ways to share a pass, applied in this order:

* packing: short clips with the same language and task go side by side in one 30-s window
  (silence between them) and their words are split back by timestamp (:mod:`models.packing`).
  It pays on every device because Whisper's encoder always processes 30 s.
* stacking: windows with equal decode options run as one batched encode/generate. It pays on a
  GPU; on a few CPU cores it was measured slower than one window at a time, so ``stack="auto"``
  stacks on CUDA only.

No Ray here: the deployment wraps this class, tests and benchmarks use it directly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from models.decoding import SAMPLE_RATE, DecodeOptions, decode_windows
from models.packing import WINDOW_S, Placement, plan_windows, split_segments, window_audio
from models.results import Segment, Word

Device = Literal["cpu", "cuda", "auto"]
StackMode = Literal["auto", "on", "off"]
TASKS = ("transcribe", "translate")


@dataclass
class ChunkRequest:
    """One ≤30-s chunk of one caller's audio (16 kHz mono float32)."""

    audio: np.ndarray
    language: str | None = None
    task: str = "transcribe"
    word_timestamps: bool = True
    beam_size: int = 5


@dataclass
class ChunkResult:
    """The chunk's language and segments, times relative to the chunk start."""

    language: str
    segments: list[Segment] = field(default_factory=list)


@dataclass
class _Window:
    """What one decoder row sees: one clip, or several packed ones."""

    options: DecodeOptions
    placements: list[Placement]
    audio: np.ndarray


class WhisperEngine:
    """Batched Whisper transcription over a faster-whisper (CTranslate2) model directory.

    Not safe for concurrent calls: one call at a time per engine (the deployment serialises them).
    CTranslate2 itself parallelises inside a call (``cpu_threads``, or the GPU).
    """

    def __init__(
        self,
        model_dir: Path,
        device: Device = "auto",
        compute_type: str = "default",
        cpu_threads: int = 0,
        pack: bool = True,
        stack: StackMode = "auto",
        pack_gap_s: float = 1.0,
        max_stack: int = 16,
    ) -> None:
        from faster_whisper import WhisperModel

        self.device = _resolve_device(device)
        self.model = WhisperModel(
            str(model_dir), device=self.device, compute_type=compute_type, cpu_threads=cpu_threads
        )
        self.pack = pack
        self.stack = stack == "on" or (stack == "auto" and self.device == "cuda")
        self.pack_gap_s = pack_gap_s
        self.max_stack = max_stack

    @property
    def multilingual(self) -> bool:
        return bool(self.model.model.is_multilingual)

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """Most likely language code of the first 30 s and its probability."""
        if not self.multilingual:
            return "en", 1.0
        language, probability, _ = self.model.detect_language(audio)
        return language, float(probability)

    def transcribe_batch(self, items: list[ChunkRequest]) -> list[ChunkResult]:
        """Transcribe chunks from different callers; results line up with ``items``.

        Items without a language are detected one by one first (the task runner normally detects
        once per task and passes it).
        """
        for item in items:
            _validate(item)
        languages = [self._language_of(item) for item in items]
        windows = self._plan(items, languages)
        segments: list[list[Segment]] = [[] for _ in items]
        for window, decoded in zip(windows, self._decode(windows), strict=True):
            per_clip = split_segments(decoded, window.placements) if len(window.placements) > 1 else [decoded]
            for placement, clip_segments in zip(window.placements, per_clip, strict=True):
                segments[placement.index] = clip_segments
        self._redo_lost_clips(items, languages, windows, segments)
        return [
            ChunkResult(language, _finish(clip_segments, item.word_timestamps))
            for item, language, clip_segments in zip(items, languages, segments, strict=True)
        ]

    def _language_of(self, item: ChunkRequest) -> str:
        if not self.multilingual:
            return "en"
        if item.language:
            return item.language
        return self.detect_language(item.audio)[0] if item.audio.size else "en"

    def _plan(self, items: list[ChunkRequest], languages: list[str]) -> list[_Window]:
        """Group items that may share a window, then pack each group (or keep clips alone)."""
        groups: dict[tuple[str, str, int], list[int]] = defaultdict(list)
        for index, (item, language) in enumerate(zip(items, languages, strict=True)):
            if item.audio.size:
                groups[(language, item.task, item.beam_size)].append(index)
        windows = []
        for (language, task, beam_size), indices in groups.items():
            durations = [len(items[i].audio) / SAMPLE_RATE for i in indices]
            layouts = (
                plan_windows(durations, WINDOW_S, self.pack_gap_s)
                if self.pack and len(indices) > 1
                else [[Placement(k, 0.0, d)] for k, d in enumerate(durations)]
            )
            for layout in layouts:
                placements = [Placement(indices[p.index], p.offset, p.duration) for p in layout]
                words = len(placements) > 1 or items[placements[0].index].word_timestamps
                options = DecodeOptions(language, task, beam_size, words)
                audio = window_audio([i.audio for i in items], placements)
                windows.append(_Window(options, placements, audio))
        return windows

    def _redo_lost_clips(
        self,
        items: list[ChunkRequest],
        languages: list[str],
        windows: list[_Window],
        segments: list[list[Segment]],
    ) -> None:
        """Whisper sometimes ends a packed window early and drops its last clip: decode such clips
        alone, so packing never silently loses a caller's words."""
        lost = [p for w in windows if len(w.placements) > 1 for p in w.placements if not segments[p.index]]
        if not lost:
            return
        audios = [item.audio for item in items]
        retry = []
        for p in lost:
            item, alone = items[p.index], [Placement(p.index, 0.0, p.duration)]
            options = DecodeOptions(languages[p.index], item.task, item.beam_size, item.word_timestamps)
            retry.append(_Window(options, alone, window_audio(audios, alone)))
        for placement, decoded in zip(lost, self._decode(retry), strict=True):
            segments[placement.index] = decoded

    def _decode(self, windows: list[_Window]) -> list[list[Segment]]:
        """Decode windows, stacking those with equal options when stacking pays."""
        by_options: dict[DecodeOptions, list[int]] = defaultdict(list)
        for index, window in enumerate(windows):
            by_options[window.options].append(index)
        step = self.max_stack if self.stack else 1
        decoded: list[list[Segment]] = [[] for _ in windows]
        for options, indices in by_options.items():
            for start in range(0, len(indices), step):
                batch = indices[start : start + step]
                outputs = decode_windows(self.model, [windows[i].audio for i in batch], options)
                for index, output in zip(batch, outputs, strict=True):
                    decoded[index] = output
        return decoded


def _resolve_device(device: Device) -> str:
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def _validate(item: ChunkRequest) -> None:
    """Reject caller bugs early with a clear message instead of a model-internal error."""
    if item.task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {item.task!r}")
    if item.audio.ndim != 1:
        raise ValueError("audio must be mono: a 1-D array of 16 kHz samples")
    if len(item.audio) > WINDOW_S * SAMPLE_RATE:
        raise ValueError(f"a chunk must be at most {WINDOW_S:g} s; cut longer audio with chunk_regions")


def _finish(segments: list[Segment], word_timestamps: bool) -> list[Segment]:
    """Public shape: word texts without Whisper's leading space; no words when not asked for."""
    finished = []
    for segment in segments:
        if not segment.text:
            continue
        words = tuple(
            Word(w.word.strip(), w.start, w.end, w.probability, w.speaker)
            for w in segment.words
            if w.word.strip()
        )
        finished.append(Segment(segment.start, segment.end, segment.text, words if word_timestamps else ()))
    return finished
