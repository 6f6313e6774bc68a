"""Output documents from a :class:`~models.results.Transcript`.

The JSON shapes are the old Flask WhisperX service's (``transcription``, ``wordstamps``,
``speaker_segments``, ``diarization``) so existing clients keep parsing them; word dicts follow
whisperx (``word``, ``start``, ``end``, ``score``, optional ``speaker``). Subtitle and text
formats prefix lines with ``[SPEAKER_00]:`` when segments carry speakers.
"""

from __future__ import annotations

from collections.abc import Callable

from models.results import Segment, Transcript, Turn, Word


def word_dict(word: Word) -> dict:
    """A word as whisperx writes it."""
    out = {"word": word.word, "start": word.start, "end": word.end, "score": word.probability}
    if word.speaker is not None:
        out["speaker"] = word.speaker
    return out


def segment_dict(segment: Segment, words: bool = False) -> dict:
    """A segment as whisperx writes it; ``speaker`` only when diarization assigned one."""
    out: dict = {"start": segment.start, "end": segment.end, "text": segment.text}
    if segment.speaker is not None:
        out["speaker"] = segment.speaker
    if words:
        out["words"] = [word_dict(w) for w in segment.words]
    return out


def transcription_json(transcript: Transcript) -> dict:
    """``transcription.json``: language, plain segments and the joined text."""
    segments = [{"start": s.start, "end": s.end, "text": s.text} for s in transcript.segments]
    return {"language": transcript.language, "segments": segments, "text": transcript.text}


def wordstamps_json(transcript: Transcript) -> dict:
    """``wordstamps.json``: segments with their words, plus every word in one flat list."""
    return {
        "language": transcript.language,
        "segments": [segment_dict(s, words=True) for s in transcript.segments],
        "word_segments": [word_dict(w) for w in transcript.words],
    }


def speaker_segments_json(transcript: Transcript) -> dict:
    """``speaker_segments.json``: segments (and their words) labelled with speakers."""
    return {
        "language": transcript.language,
        "segments": [segment_dict(s, words=True) for s in transcript.segments],
    }


def diarization_json(turns: list[Turn]) -> list[dict]:
    """``diarization.json``: one record per speaker turn."""
    return [{"start": t.start, "end": t.end, "speaker": t.speaker} for t in turns]


def srt(transcript: Transcript) -> str:
    """SubRip subtitles, one cue per segment."""
    cues = [
        f"{n}\n{_clock(s.start, ',')} --> {_clock(s.end, ',')}\n{_line(s)}\n"
        for n, s in enumerate(_spoken(transcript), start=1)
    ]
    return "\n".join(cues)


def vtt(transcript: Transcript) -> str:
    """WebVTT subtitles, one cue per segment."""
    cues = [f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}\n{_line(s)}\n" for s in _spoken(transcript)]
    return "WEBVTT\n\n" + "\n".join(cues)


def txt(transcript: Transcript) -> str:
    """Plain text, one segment per line."""
    return "".join(f"{_line(s)}\n" for s in _spoken(transcript))


def tsv(transcript: Transcript) -> str:
    """Tab-separated ``start``/``end`` in integer milliseconds and text, as openai-whisper writes it."""
    rows = [
        f"{round(s.start * 1000)}\t{round(s.end * 1000)}\t{_line(s).replace(chr(9), ' ')}"
        for s in _spoken(transcript)
    ]
    return "start\tend\ttext\n" + "".join(row + "\n" for row in rows)


def rttm(turns: list[Turn], file_id: str = "audio") -> str:
    """NIST RTTM speaker turns, the format diarization tools exchange."""
    safe_id = "_".join(file_id.split()) or "audio"
    return "".join(
        f"SPEAKER {safe_id} 1 {t.start:.3f} {max(t.end - t.start, 0.0):.3f} <NA> <NA> {t.speaker} <NA> <NA>\n"
        for t in turns
    )


TEXT_FORMATS: dict[str, Callable[[Transcript], str]] = {"srt": srt, "vtt": vtt, "txt": txt, "tsv": tsv}


def _spoken(transcript: Transcript) -> list[Segment]:
    return [s for s in transcript.segments if s.text.strip()]


def _line(segment: Segment) -> str:
    text = " ".join(segment.text.split())
    return f"[{segment.speaker}]: {text}" if segment.speaker else text


def _clock(seconds: float, decimal: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"
