"""``Diarizer``: who speaks when, in its own deployment (own replicas, own GPU fraction)."""

from __future__ import annotations

import asyncio
import logging
import os
import threading

from ray import serve

from deployments.config import DiarizationArgs, ModelsArgs
from models.diarization import DiarizationUnavailable, load_diarizer
from models.pipeline import DiarizeRequest
from models.results import Turn

logger = logging.getLogger("ray.serve")


@serve.deployment(max_ongoing_requests=8, ray_actor_options={"num_cpus": 1})
class Diarizer:
    """Loads the configured backend once. If it cannot load (pyannote without a pipeline or a
    token), the replica still starts and every request fails with that reason, so tasks that
    ask for speakers say why instead of hanging, and everything else keeps working."""

    def __init__(self, args: DiarizationArgs, models: ModelsArgs):
        models.apply_hub_mode()
        self._unavailable: str | None = None
        self._lock = threading.Lock()
        try:
            self.backend = load_diarizer(
                args.backend,
                device=_device(args.device),
                pyannote_pipeline=args.pyannote_pipeline,
                hf_token=os.environ.get("HF_WHISPERX") or None,
                hub_online=models.hub_online,
            )
        except DiarizationUnavailable as exc:
            self._unavailable = str(exc)
            logger.warning("Diarizer unavailable: %s", exc)

    async def diarize(self, request: DiarizeRequest) -> list[Turn]:
        if self._unavailable is not None:
            raise DiarizationUnavailable(self._unavailable)

        def run() -> list[Turn]:
            with self._lock:
                return self.backend.diarize(
                    request.audio,
                    num_speakers=request.num_speakers,
                    min_speakers=request.min_speakers,
                    max_speakers=request.max_speakers,
                )

        return await asyncio.to_thread(run)


def _device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
