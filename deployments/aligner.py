"""``Aligner``: wav2vec2 word alignment (whisperx), deployed only when align models are configured."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
from ray import serve

from deployments.config import ModelsArgs
from models.alignment import WordAligner
from models.results import Transcript


@serve.deployment(max_ongoing_requests=8, ray_actor_options={"num_cpus": 1})
class Aligner:
    def __init__(self, models: ModelsArgs, device: str = "cpu"):
        models.apply_hub_mode()
        dirs = {lang: Path(path).expanduser() for lang, path in models.align_models.items()}
        self.aligner = WordAligner(dirs, device=device)
        self._lock = threading.Lock()

    async def align(self, transcript: Transcript, audio: np.ndarray) -> Transcript:
        def run() -> Transcript:
            with self._lock:
                segments = self.aligner.align(transcript.segments, audio, transcript.language)
            return replace(transcript, segments=segments)

        return await asyncio.to_thread(run)
