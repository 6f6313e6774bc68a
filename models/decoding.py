"""One batched Whisper pass: encode a stack of ≤30-s windows, generate with timestamps, and add
word timings from the decoder's cross-attention (CTranslate2's DTW ``align``).

This is the core of faster-whisper's ``BatchedInferencePipeline`` reduced to what the engine needs:
no VAD, no seeking, no temperature fallback (a chunk is one window), results as our own
:class:`~models.results.Segment`. Word texts keep Whisper's leading space here so packed windows
can rebuild segment text exactly; the engine strips them last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_suppressed_tokens, merge_punctuations

from models.results import Segment, Word

SAMPLE_RATE = 16000
WINDOW_FRAMES = 3000
FRAMES_PER_SECOND = 100
TIME_PRECISION = 0.02
MAX_LENGTH = 448
PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"
# faster-whisper's silence rule: a window that is probably silent and decoded without confidence
# produced a hallucination, not speech.
NO_SPEECH_THRESHOLD = 0.6
LOGPROB_THRESHOLD = -1.0


@dataclass(frozen=True)
class DecodeOptions:
    """Options that must be equal for every window of one batched call."""

    language: str
    task: str = "transcribe"
    beam_size: int = 5
    word_timestamps: bool = True


def decode_windows(
    model: WhisperModel, audios: list[np.ndarray], options: DecodeOptions
) -> list[list[Segment]]:
    """Transcribe each ≤30-s window in one encode + one generate call; times relative to each window."""
    tokenizer = Tokenizer(
        model.hf_tokenizer, model.model.is_multilingual, task=options.task, language=options.language
    )
    features = np.stack([pad_or_trim(model.feature_extractor(a), WINDOW_FRAMES) for a in audios])
    encoder_output = model.encode(features)
    results = model.model.generate(
        encoder_output,
        [list(tokenizer.sot_sequence)] * len(audios),
        beam_size=options.beam_size,
        max_length=MAX_LENGTH,
        suppress_blank=True,
        suppress_tokens=list(get_suppressed_tokens(tokenizer, [-1])),
        return_scores=True,
        return_no_speech_prob=True,
    )
    durations = [len(a) / SAMPLE_RATE for a in audios]
    token_lists = [_tokens_unless_silent(r) for r in results]
    segments = [
        _split_by_timestamps(tokenizer, tokens, duration)
        for tokens, duration in zip(token_lists, durations, strict=True)
    ]
    if options.word_timestamps:
        return _add_words(model, tokenizer, encoder_output, segments, durations)
    return [[_to_segment(tokenizer, raw) for raw in item] for item in segments]


@dataclass
class _RawSegment:
    start: float
    end: float
    tokens: list[int]


def _tokens_unless_silent(result) -> list[int]:
    tokens = result.sequences_ids[0]
    avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
    if result.no_speech_prob > NO_SPEECH_THRESHOLD and avg_logprob < LOGPROB_THRESHOLD:
        return []
    return tokens


def _split_by_timestamps(tokenizer: Tokenizer, tokens: list[int], duration: float) -> list[_RawSegment]:
    """Cut generated tokens into segments at timestamp tokens (``<|t0|> text <|t1|>``)."""
    segments: list[_RawSegment] = []
    start, text = 0.0, list[int]()
    for token in tokens:
        if token >= tokenizer.timestamp_begin:
            time = min((token - tokenizer.timestamp_begin) * TIME_PRECISION, duration)
            if text:
                segments.append(_RawSegment(start, time, text))
                text = []
            start = time
        elif token < tokenizer.eot:
            text.append(token)
    if text:  # no closing timestamp: the segment runs to the end of the audio
        segments.append(_RawSegment(start, duration, text))
    return segments


def _to_segment(tokenizer: Tokenizer, raw: _RawSegment, words: tuple[Word, ...] = ()) -> Segment:
    start, end = (words[0].start, words[-1].end) if words else (raw.start, raw.end)
    return Segment(
        start=round(start, 3),
        end=round(max(end, start), 3),
        text=tokenizer.decode(raw.tokens).strip(),
        words=words,
    )


def _add_words(
    model: WhisperModel,
    tokenizer: Tokenizer,
    encoder_output,
    segments: list[list[_RawSegment]],
    durations: list[float],
) -> list[list[Segment]]:
    """Time every word by DTW over the alignment heads, then hand words to their segments."""
    text_tokens = [[t for raw in item for t in raw.tokens] for item in segments]
    num_frames = [min(WINDOW_FRAMES, max(2, round(d * FRAMES_PER_SECOND))) for d in durations]
    # align() needs text for every row of the batch; a silent row aligns a placeholder, ignored.
    placeholder = tokenizer.encode(" ")
    results = model.model.align(
        encoder_output,
        tokenizer.sot_sequence,
        [tokens or placeholder for tokens in text_tokens],
        num_frames,
        median_filter_width=7,
    )
    return [
        _distribute(tokenizer, item, _word_timings(tokenizer, tokens, result, duration) if tokens else [])
        for item, tokens, result, duration in zip(segments, text_tokens, results, durations, strict=True)
    ]


def _word_timings(tokenizer: Tokenizer, tokens: list[int], result, duration: float) -> list[dict]:
    words, word_tokens = tokenizer.split_to_word_tokens([*tokens, tokenizer.eot])
    words, word_tokens = words[:-1], word_tokens[:-1]  # the last "word" is the end-of-text token
    if not word_tokens:
        return []
    boundaries = np.pad(np.cumsum([len(t) for t in word_tokens]), (1, 0))
    text_idx = np.array([pair[0] for pair in result.alignments])
    time_idx = np.array([pair[1] for pair in result.alignments])
    jumps = np.pad(np.diff(text_idx), (1, 0), constant_values=1).astype(bool)
    jump_times = np.clip(time_idx[jumps] * TIME_PRECISION, 0.0, duration)
    probs = result.text_token_probs
    timing = [
        {"word": word, "tokens": toks, "start": float(jump_times[i]), "end": float(jump_times[j]),
         "probability": float(np.mean(probs[i:j]))}
        for word, toks, i, j in zip(words, word_tokens, boundaries[:-1], boundaries[1:], strict=True)
    ]  # fmt: skip
    merge_punctuations(timing, PREPEND_PUNCTUATIONS, APPEND_PUNCTUATIONS)
    return timing


def _distribute(tokenizer: Tokenizer, segments: list[_RawSegment], timing: list[dict]) -> list[Segment]:
    """Give each segment the words made of its tokens (words never straddle segments)."""
    out, index = [], 0
    for raw in segments:
        consumed, words = 0, []
        while index < len(timing) and consumed < len(raw.tokens):
            entry = timing[index]
            if entry["word"]:
                words.append(Word(entry["word"], round(entry["start"], 3), round(entry["end"], 3),
                                  round(entry["probability"], 3)))  # fmt: skip
            consumed += len(entry["tokens"])
            index += 1
        out.append(_to_segment(tokenizer, raw, tuple(words)))
    return out
