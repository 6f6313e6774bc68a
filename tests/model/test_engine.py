"""The Whisper engine with the real bundled base weights, on espeak-ng speech.

Asserts on what a user would notice: the words (WER), their timestamps, the language, and that
packing and stacking never hand one caller's words to another.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.chunking import chunk_regions
from models.engine import ChunkRequest, ChunkResult, WhisperEngine
from models.vad import SpeechDetector
from models.weights import resolve_model
from tests.helpers.speech import SAMPLE_RATE, normalize, say_array, word_error_rate

pytestmark = pytest.mark.model

PASSAGE = (
    "The history of the town begins with a small market on the river. "
    "Farmers brought apples, cheese and bread every Saturday morning. "
    "Later a bridge was built, and the market grew into a busy harbour. "
    "Today the old warehouses are museums, and visitors walk along the water. "
    "In summer the streets are full of music, and children swim near the beach."
)

# Five callers with (almost) disjoint vocabularies, so a leaked word is easy to spot.
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things from the store.",
    "We also need a small plastic snake for the children.",
    "My grandmother planted yellow tulips beside the garden fence.",
    "Seven engineers repaired the broken railway signal yesterday.",
]
COMMON = {"the", "a", "and", "to", "for", "her", "we"}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return resolve_model("base", tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def engine(model_dir) -> WhisperEngine:
    return WhisperEngine(model_dir, device="cpu", compute_type="int8", cpu_threads=2)


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    return [say_array(text) for text in SENTENCES]


def text_of(result: ChunkResult) -> str:
    return " ".join(s.text for s in result.segments)


def assert_own_words_only(results: list[ChunkResult]) -> None:
    """Every item matches its own sentence and holds no distinctive word of another one."""
    for index, result in enumerate(results):
        hypothesis = text_of(result)
        assert word_error_rate(SENTENCES[index], hypothesis) < 0.25, (index, hypothesis)
        own = set(normalize(SENTENCES[index]))
        foreign = {w for j, s in enumerate(SENTENCES) if j != index for w in normalize(s)} - own - COMMON
        assert not foreign & set(normalize(hypothesis)), (index, hypothesis)


def assert_words_well_timed(result: ChunkResult, duration: float) -> None:
    words = [w for s in result.segments for w in s.words]
    assert words
    for word in words:
        assert 0.0 <= word.start <= word.end <= duration + 1e-6
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    for segment in result.segments:
        assert " ".join(w.word for w in segment.words) == segment.text


def test_passage_through_vad_chunks_has_low_wer_and_timed_words(engine):
    audio = say_array(PASSAGE)
    assert 20.0 < len(audio) / SAMPLE_RATE < 45.0
    chunks = chunk_regions(SpeechDetector().regions(audio))
    items = [ChunkRequest(audio[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)], "en") for s, e in chunks]
    results = engine.transcribe_batch(items)
    hypothesis = " ".join(text_of(r) for r in results)
    assert word_error_rate(PASSAGE, hypothesis) < 0.15, hypothesis
    for item, result in zip(items, results, strict=True):
        assert result.language == "en"
        assert_words_well_timed(result, len(item.audio) / SAMPLE_RATE)


def test_language_detection(engine, clips):
    language, probability = engine.detect_language(clips[1])
    assert language == "en" and probability > 0.5
    german = say_array("Guten Morgen. Ich möchte heute mit dem Zug nach Berlin fahren.", voice="de")
    assert engine.detect_language(german)[0] == "de"
    spanish = say_array("Buenos días. Mañana vamos a la playa con nuestros amigos.", voice="es")
    assert engine.detect_language(spanish)[0] == "es"


def test_language_is_detected_per_item_when_missing(engine, clips):
    german = say_array("Guten Morgen. Ich möchte heute mit dem Zug nach Berlin fahren.", voice="de")
    results = engine.transcribe_batch([ChunkRequest(clips[0]), ChunkRequest(german)])
    assert [r.language for r in results] == ["en", "de"]
    assert "berlin" in normalize(text_of(results[1]))


def test_packing_returns_each_callers_own_words(engine, clips):
    results = engine.transcribe_batch([ChunkRequest(c, "en") for c in clips])
    assert_own_words_only(results)
    for clip, result in zip(clips, results, strict=True):
        assert_words_well_timed(result, len(clip) / SAMPLE_RATE)


def test_stacking_gives_the_same_transcripts_as_one_at_a_time(model_dir, engine, clips):
    stacked = WhisperEngine(
        model_dir, device="cpu", compute_type="int8", cpu_threads=2, pack=False, stack="on"
    )
    engine_alone = WhisperEngine(
        model_dir, device="cpu", compute_type="int8", cpu_threads=2, pack=False, stack="off"
    )
    items = [ChunkRequest(c, "en") for c in clips[:3]]
    together, alone = stacked.transcribe_batch(items), engine_alone.transcribe_batch(items)
    assert_own_words_only(together)
    for index, (a, b) in enumerate(zip(together, alone, strict=True)):
        assert word_error_rate(text_of(b), text_of(a)) <= 0.1
        assert word_error_rate(SENTENCES[index], text_of(a)) < 0.25


def test_mixed_options_in_one_batch_keep_their_order(engine, clips):
    items = [
        ChunkRequest(clips[0], "en", word_timestamps=False),
        ChunkRequest(np.zeros(0, dtype=np.float32), "en"),
        ChunkRequest(clips[3], "en"),
        ChunkRequest(clips[4], "en", word_timestamps=False),
    ]
    results = engine.transcribe_batch(items)
    assert len(results) == 4
    assert results[1].segments == []
    assert all(not s.words for s in results[0].segments + results[3].segments)
    assert all(s.words for s in results[2].segments)
    for index, result in ((0, results[0]), (3, results[2]), (4, results[3])):
        assert word_error_rate(SENTENCES[index], text_of(result)) < 0.25


def test_chunks_longer_than_a_window_are_refused(engine):
    with pytest.raises(ValueError, match="at most 30"):
        engine.transcribe_batch([ChunkRequest(np.zeros(31 * SAMPLE_RATE, dtype=np.float32), "en")])
