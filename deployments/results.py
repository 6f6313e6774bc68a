"""Result files of a task: their names, storage keys, media types, and how they are written."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from models import writers
from models.pipeline import PipelineResult
from models.results import Transcript
from storage import ObjectStore, keys


@dataclass(frozen=True)
class ResultFile:
    name: str
    file_name: str
    media_type: str


RESULT_FILES: dict[str, ResultFile] = {
    f.name: f
    for f in (
        ResultFile("transcription", "transcription.json", "application/json"),
        ResultFile("wordstamps", "wordstamps.json", "application/json"),
        ResultFile("speaker_segments", "speaker_segments.json", "application/json"),
        ResultFile("diarization", "diarization.json", "application/json"),
        ResultFile("srt", "transcript.srt", "application/x-subrip"),
        ResultFile("vtt", "transcript.vtt", "text/vtt; charset=utf-8"),
        ResultFile("txt", "transcript.txt", "text/plain; charset=utf-8"),
        ResultFile("tsv", "transcript.tsv", "text/tab-separated-values; charset=utf-8"),
        ResultFile("rttm", "diarization.rttm", "text/plain; charset=utf-8"),
        ResultFile("bluelm", "transcription_bluelm.json", "application/json"),
    )
}
# The old gateway's error text called speaker_segments "speaker"; accept both.
ALIASES = {"speaker": "speaker_segments"}


def result_key(task_id: str, name: str) -> str:
    return keys.result_key(task_id, RESULT_FILES[name].file_name)


class ResultWriter:
    """Writes a task's outputs as the pipeline produces them; returns the names now available."""

    def __init__(self, store: ObjectStore, task_id: str):
        self.store = store
        self.task_id = task_id
        self.available: list[str] = []

    async def put(self, name: str, content: object) -> None:
        body = content.encode() if isinstance(content, str) else _json(content)
        spec = RESULT_FILES[name]
        key = result_key(self.task_id, name)
        await asyncio.to_thread(self.store.put, key, body, content_type=spec.media_type)
        if name not in self.available:
            self.available.append(name)

    async def checkpoint(self, stage: str, transcript: Transcript | None) -> list[str]:
        """Intermediate files, as the old service offered them while a task was still running."""
        if transcript is not None and stage == "transcription_completed":
            await self.put("transcription", writers.transcription_json(transcript))
        if transcript is not None and stage == "alignment_completed":
            await self.put("wordstamps", writers.wordstamps_json(transcript))
        return list(self.available)

    async def final(self, result: PipelineResult, word_timestamps: bool, diarized: bool) -> list[str]:
        transcript = result.transcript
        if "transcription" not in self.available:
            await self.put("transcription", writers.transcription_json(transcript))
        if word_timestamps and ("wordstamps" not in self.available or diarized):  # speakers added
            await self.put("wordstamps", writers.wordstamps_json(transcript))
        if diarized:
            await self.put("speaker_segments", writers.speaker_segments_json(transcript))
            await self.put("diarization", writers.diarization_json(result.turns))
            await self.put("rttm", writers.rttm(result.turns, file_id=self.task_id))
        for name, render in (
            ("srt", writers.srt),
            ("vtt", writers.vtt),
            ("txt", writers.txt),
            ("tsv", writers.tsv),
        ):
            await self.put(name, render(transcript))
        return list(self.available)


def _json(content: object) -> bytes:
    return json.dumps(content, ensure_ascii=False, indent=2).encode()
