"""Optional wav2vec2 forced alignment of word timings through ``whisperx.alignment``.

Whisper's own cross-attention timings (see :mod:`models.decoding`) are the default. When an
operator configures a local wav2vec2 CTC model directory for a language, this module re-times the
words with it, as the old WhisperX service did. Nothing is downloaded: models load from local
directories only.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from models.errors import AlignmentUnavailable
from models.results import Segment, Word

SAMPLE_RATE = 16000
_PATCH_LOCK = threading.Lock()


class WordAligner:
    """Aligns transcript words to audio with per-language wav2vec2 models, loaded on first use.

    ``model_dirs`` maps a language code to a local directory holding a Hugging Face
    ``Wav2Vec2ForCTC`` model and its ``Wav2Vec2Processor``. Not safe for concurrent calls (one
    call at a time per aligner), like the engine.
    """

    def __init__(self, model_dirs: dict[str, Path], device: str = "cpu") -> None:
        self.model_dirs = {lang: Path(path) for lang, path in model_dirs.items()}
        self.device = device
        self._loaded: dict[str, tuple[object, dict]] = {}

    @property
    def languages(self) -> list[str]:
        return sorted(self.model_dirs)

    def align(self, segments: list[Segment], audio: np.ndarray, language: str) -> list[Segment]:
        """Return ``segments`` re-timed word by word; times are relative to ``audio``'s start.

        Raises :class:`AlignmentUnavailable` when no model is configured for ``language``.
        """
        import whisperx.alignment as wx_alignment

        model, metadata = self._model(language)
        transcript = [{"text": s.text, "start": s.start, "end": s.end} for s in segments if s.text.strip()]
        if not transcript:
            return []
        result = wx_alignment.align(
            transcript, model, metadata, np.ascontiguousarray(audio, dtype=np.float32), self.device
        )
        duration = len(audio) / SAMPLE_RATE
        return [_to_segment(raw, duration) for raw in result["segments"]]

    def _model(self, language: str) -> tuple[object, dict]:
        if language not in self._loaded:
            self._loaded[language] = self._load(language)
        return self._loaded[language]

    def _load(self, language: str) -> tuple[object, dict]:
        directory = self.model_dirs.get(language)
        if directory is None:
            raise AlignmentUnavailable(
                f"No alignment model is configured for language {language!r}. "
                f"Configured: {', '.join(self.languages) or 'none'}."
            )
        if not (directory / "config.json").is_file():
            raise AlignmentUnavailable(f"The alignment model for {language!r} is missing at {directory}.")
        import whisperx.alignment as wx_alignment

        _install_offline_sentence_splitter(wx_alignment)
        return wx_alignment.load_align_model(
            language, self.device, model_name=str(directory), model_cache_only=True
        )


def _install_offline_sentence_splitter(wx_alignment) -> None:
    """Make whisperx's sentence splitting work without nltk's ``punkt_tab`` download.

    whisperx loads punkt data with ``nltk.data.load`` and, when it is missing, calls
    ``nltk.download`` (a network call that fails or hangs here). Its loader is replaced, once, by
    one that still prefers installed punkt data but otherwise returns an untrained
    ``PunktSentenceTokenizer``, which splits at sentence punctuation without abbreviation lists:
    sentences only group words into segments, the word timings do not depend on it.
    """
    with _PATCH_LOCK:
        if getattr(wx_alignment.nltk_load, "_auralab_offline", False):
            return
        original = wx_alignment.nltk_load

        def load(resource: str, *args, **kwargs):
            from nltk.tokenize.punkt import PunktSentenceTokenizer

            try:
                return original(resource, *args, **kwargs)
            except (LookupError, OSError, ValueError):
                return PunktSentenceTokenizer()

        load._auralab_offline = True  # type: ignore[attr-defined]
        wx_alignment.nltk_load = load


def _to_segment(raw: dict, duration: float) -> Segment:
    """A whisperx aligned segment as ours; unalignable words borrow the previous word's end."""
    start = _clamp(raw.get("start"), 0.0, duration)
    words, cursor = [], start
    for entry in raw.get("words", []):
        word_start = _clamp(entry.get("start"), cursor, duration)
        word_end = max(_clamp(entry.get("end"), word_start, duration), word_start)
        words.append(Word(str(entry["word"]), word_start, word_end, round(float(entry.get("score", 0.0)), 3)))
        cursor = word_end
    end = max(_clamp(raw.get("end"), start, duration), words[-1].end if words else start)
    return Segment(start=start, end=end, text=str(raw["text"]).strip(), words=tuple(words))


def _clamp(value: object, default: float, upper: float) -> float:
    """A finite time within ``[0, upper]``; ``default`` when whisperx left it out or NaN."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return round(default, 3)
    if not np.isfinite(number):
        return round(default, 3)
    return round(min(max(number, 0.0), upper), 3)
