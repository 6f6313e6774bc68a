"""``Transcriber``: one Whisper model, serving chunks from many tasks and callers per forward pass."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from ray import serve

from deployments import metrics
from deployments.config import ModelsArgs, StorageArgs, TranscriberArgs
from models.engine import ChunkRequest, ChunkResult, WhisperEngine

logger = logging.getLogger("ray.serve")
SAMPLE_RATE = 16_000

EngineFactory = Callable[..., Any]
DEFAULT_MAX_ONGOING = 32


def deployment_name(model: str) -> str:
    return f"Transcriber-{model}"


@serve.deployment(max_ongoing_requests=DEFAULT_MAX_ONGOING, ray_actor_options={"num_cpus": 1})
class Transcriber:
    """Wraps a :class:`WhisperEngine`; ``@serve.batch`` gathers chunks that arrive together.

    The model loads in the constructor, so a replica takes traffic only once its weights are ready.
    The engine serves one call at a time (it is not re-entrant), so calls are serialised by a lock.
    """

    def __init__(
        self,
        model: TranscriberArgs,
        models: ModelsArgs,
        storage: StorageArgs,
        engine_factory: EngineFactory | None = None,
    ):
        self.args = model
        models.apply_hub_mode()
        started = time.monotonic()
        model_dir = _resolve_weights(model, models, storage)
        self.engine = (engine_factory or WhisperEngine)(
            model_dir,
            device=model.device,
            compute_type=model.compute_type,
            cpu_threads=model.cpu_threads,
            pack=model.pack,
            stack=model.stack,
        )
        self._lock = threading.Lock()
        self.transcribe.set_max_batch_size(model.max_batch_size)
        self.transcribe.set_batch_wait_timeout_s(model.batch_wait_timeout_s)
        logger.info("Transcriber %s ready in %.1fs (%s)", model.model, time.monotonic() - started, model_dir)

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.05)
    async def transcribe(self, requests: list[ChunkRequest]) -> list[ChunkResult]:
        return await asyncio.to_thread(self._run_batch, requests)

    def _run_batch(self, requests: list[ChunkRequest]) -> list[ChunkResult]:
        audio_s = sum(r.audio.size for r in requests) / SAMPLE_RATE
        started = time.monotonic()
        with self._lock:
            results = self.engine.transcribe_batch(requests)
        elapsed = time.monotonic() - started
        mode = "packed" if self.args.pack and len(requests) > 1 else "single"
        metrics.observe(metrics.BATCH_SIZE, len(requests), model=self.args.model, mode=mode)
        metrics.count(metrics.AUDIO_SECONDS, audio_s, model=self.args.model)
        if audio_s > 0:
            metrics.observe(metrics.REALTIME_FACTOR, elapsed / audio_s, model=self.args.model)
        return results

    async def detect_language(self, audio: np.ndarray) -> str:
        def run() -> str:
            with self._lock:
                return self.engine.detect_language(audio)[0]

        return await asyncio.to_thread(run)

    def check_health(self) -> None:
        if getattr(self, "engine", None) is None:
            raise RuntimeError("model not loaded")


def _resolve_weights(model: TranscriberArgs, models: ModelsArgs, storage: StorageArgs) -> Path:
    from deployments.gateway import open_storage
    from models.weights import resolve_model

    store = open_storage(storage)
    return resolve_model(
        model.model,
        cache_dir=Path(models.cache_dir).expanduser(),
        store=store,
        hub_online=models.hub_online,
        hub_token=os.environ.get("HF_WHISPERX") or None,
    )
