"""The durable task record: one JSON object per task, and the rules for moving it between states."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class TaskStatus(StrEnum):
    """The old WhisperX service's status values, in pipeline order."""

    QUEUED = "queued"
    PROCESSING = "processing"
    TRANSCRIPTION_PROCESSING = "transcription_processing"
    TRANSCRIPTION_COMPLETED = "transcription_completed"
    ALIGNMENT_PROCESSING = "alignment_processing"
    ALIGNMENT_COMPLETED = "alignment_completed"
    DIARIZATION_PROCESSING = "diarization_processing"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (TaskStatus.COMPLETED, TaskStatus.FAILED)


_ORDER = list(TaskStatus)


def allowed(current: TaskStatus, new: TaskStatus) -> bool:
    """Forward moves along the pipeline, failure from any live state, and a fresh start
    (``processing``) when a runner takes over a task whose previous runner died."""
    if current.terminal:
        return False
    if new is TaskStatus.FAILED or new is TaskStatus.PROCESSING:
        return True
    return _ORDER.index(new) > _ORDER.index(current)


class TaskRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_id: str
    engine: Literal["whisperx", "bluelm"] = "whisperx"
    status: TaskStatus = TaskStatus.QUEUED
    progress: int = Field(default=0, ge=0, le=100)
    message: str = "Task queued"
    filename: str = ""
    upload_key: str = ""
    upload_size: int = 0
    options: dict[str, Any] = Field(default_factory=dict)
    created_at: float = Field(default_factory=time.time)
    updated_at: float = Field(default_factory=time.time)
    finished_at: float | None = None
    attempts: int = 0
    lease_owner: str | None = None
    heartbeat_at: float | None = None
    available_files: list[str] = Field(default_factory=list)
    language: str | None = None
    duration_s: float | None = None
    vendor_task_id: str | None = None
    error: str | None = None
    error_code: str | None = None

    def lease_expired(self, lease_s: float, now: float | None = None) -> bool:
        if self.status is TaskStatus.QUEUED or self.heartbeat_at is None:
            return True
        return (now or time.time()) - self.heartbeat_at > lease_s
