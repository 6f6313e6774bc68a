"""The pyannote backend: whisperx's ``DiarizationPipeline`` over a pyannote pipeline.

Its weights are gated on the Hugging Face hub, so it runs only from a local pipeline directory
(or ``config.yaml``) or with a hub token and hub access. Anything else is refused at load time
with :class:`DiarizationUnavailable`, before pyannote is even imported, so no hub retries happen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.diarization.base import (
    SAMPLE_RATE,
    check_sample_rate,
    check_speaker_bounds,
    relabel_by_first_appearance,
)
from models.diarization.errors import DiarizationUnavailable
from models.results import Turn

DEFAULT_PIPELINE = "pyannote/speaker-diarization-community-1"


def resolve_pipeline_source(
    pipeline: str | None, hf_token: str | None, hub_online: bool
) -> tuple[str, str | None]:
    """Return ``(checkpoint, token)`` to load, or raise saying what to configure.

    A value that names an existing file or directory is a local pipeline and needs no token;
    a value that looks like a path but does not exist is an error, not a hub id.
    """
    if pipeline and Path(pipeline).exists():
        return pipeline, None
    if pipeline and _looks_like_path(pipeline):
        raise DiarizationUnavailable(
            f"The pyannote pipeline path {pipeline!r} does not exist; point it at a directory "
            "holding the pipeline's config.yaml (and its models)."
        )
    if not hub_online or not hf_token:
        raise DiarizationUnavailable(
            "pyannote diarization needs a local pipeline directory (pyannote_pipeline) or a "
            "Hugging Face token (HF_WHISPERX) with hub access enabled; use the 'offline' "
            "diarization backend otherwise."
        )
    return pipeline or DEFAULT_PIPELINE, hf_token


def _looks_like_path(value: str) -> bool:
    return value.startswith(("/", ".", "~")) or value.endswith((".yaml", ".yml"))


class PyannoteDiarizer:
    """Wraps one loaded pyannote pipeline; call from one thread at a time."""

    def __init__(
        self,
        device: str = "cpu",
        pipeline: str | None = None,
        hf_token: str | None = None,
        hub_online: bool = False,
    ) -> None:
        checkpoint, token = resolve_pipeline_source(pipeline, hf_token, hub_online)
        try:
            from whisperx.diarize import DiarizationPipeline

            self._pipeline = DiarizationPipeline(model_name=checkpoint, token=token, device=device)
        except Exception as exc:  # pyannote raises many types; callers need one actionable error
            raise DiarizationUnavailable(
                f"The pyannote pipeline {checkpoint!r} could not be loaded ({type(exc).__name__}); "
                "check that it exists and that the token may access it."
            ) from exc
        if self._pipeline.model is None:  # pyannote returns None when a hub download fails
            raise DiarizationUnavailable(f"The pyannote pipeline {checkpoint!r} was not found.")

    def diarize(
        self,
        audio: np.ndarray,
        sample_rate: int = SAMPLE_RATE,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
    ) -> list[Turn]:
        check_sample_rate(sample_rate)
        check_speaker_bounds(num_speakers, min_speakers, max_speakers)
        frame = self._pipeline(
            np.ascontiguousarray(audio, dtype=np.float32),
            num_speakers=num_speakers,
            min_speakers=min_speakers,
            max_speakers=max_speakers,
        )
        turns = [
            Turn(round(float(row.start), 3), round(float(row.end), 3), str(row.speaker))
            for row in frame.itertuples()
        ]
        return relabel_by_first_appearance(turns)
