"""wav2vec2 alignment plumbing with a tiny random CTC model built by the test (no download).

With random weights the timings are meaningless; the test asserts structure and bounds, that it
runs offline (no nltk punkt download), and the error when no model is configured.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.alignment import WordAligner
from models.errors import AlignmentUnavailable
from models.results import Segment
from tests.helpers.speech import SAMPLE_RATE, say_array

pytestmark = pytest.mark.model

TEXT_1 = "Hello there. This is a test."
TEXT_2 = "Words keep their order, don't they?"


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    import torch
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForCTC,
        Wav2Vec2Processor,
    )

    directory = tmp_path_factory.mktemp("align") / "en"
    directory.mkdir()
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4}
    vocab |= {c: i + 5 for i, c in enumerate("abcdefghijklmnopqrstuvwxyz'")}
    (directory / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(directory / "vocab.json"), word_delimiter_token="|")
    features = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=SAMPLE_RATE, do_normalize=True)
    Wav2Vec2Processor(feature_extractor=features, tokenizer=tokenizer).save_pretrained(directory)
    torch.manual_seed(0)
    config = Wav2Vec2Config(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=16, conv_dim=(8,) * 7, num_conv_pos_embeddings=8,
        num_conv_pos_embedding_groups=2, pad_token_id=0,
    )  # fmt: skip
    Wav2Vec2ForCTC(config).save_pretrained(directory)
    return directory


def test_alignment_returns_ordered_words_inside_the_audio(tiny_model_dir, monkeypatch):
    import nltk

    def no_download(*args, **kwargs):
        raise AssertionError("alignment tried to download nltk data")

    monkeypatch.setattr(nltk, "download", no_download)
    first, second = say_array(TEXT_1), say_array(TEXT_2)
    audio = np.concatenate([first, second])
    split = len(first) / SAMPLE_RATE
    duration = len(audio) / SAMPLE_RATE
    segments = [Segment(0.0, split, TEXT_1), Segment(split, duration, TEXT_2)]
    aligned = WordAligner({"en": tiny_model_dir}).align(segments, audio, "en")
    words = [w for s in aligned for w in s.words]
    assert [w.word for w in words] == (TEXT_1 + " " + TEXT_2).split()
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    for word in words:
        assert 0.0 <= word.start <= word.end <= duration
    assert " ".join(s.text for s in aligned) == TEXT_1 + " " + TEXT_2
    assert all(w.start >= split - 1e-3 for w in aligned[-1].words)


def test_missing_language_or_directory_is_a_clear_error(tiny_model_dir, tmp_path):
    aligner = WordAligner({"en": tiny_model_dir, "de": tmp_path / "nowhere"})
    audio = say_array("Guten Tag.", voice="de")
    with pytest.raises(AlignmentUnavailable, match=r"'fr'.*Configured: de, en"):
        aligner.align([Segment(0.0, 1.0, "Bonjour.")], audio, "fr")
    with pytest.raises(AlignmentUnavailable, match="missing") as caught:
        aligner.align([Segment(0.0, 1.0, "Guten Tag.")], audio, "de")
    assert caught.value.code == "alignment_unavailable"
