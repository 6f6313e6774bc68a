"""Validated application args (``applications[].args`` in serve_config.yaml).

Unknown keys are rejected so a typo fails at deploy time with a message naming the key. Secrets are
never read here: replicas read them from the environment in their constructors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageArgs(_Args):
    """Where uploads, results, task records and model weights live."""

    backend: Literal["local", "s3"] = "local"
    root: str = Field(".data", description="Directory of the local backend (relative: to the launch dir).")
    bucket: str = Field("auralab", description="S3 bucket.")
    endpoint_url: str | None = Field(
        None, description="S3 endpoint (MinIO etc.); AWS_ENDPOINT_URL in the environment also works."
    )
    region: str | None = None
    prefix: str = Field("", description="Key prefix inside the bucket, to share a bucket.")
    create_bucket: bool = Field(True, description="Create the bucket at start if it is missing.")

    def resolved(self) -> StorageArgs:
        """Pin a relative local root to an absolute path once, where the app is built."""
        if self.backend != "local":
            return self
        return self.model_copy(update={"root": str(Path(self.root).expanduser().resolve())})


class TranscriberArgs(_Args):
    """One served Whisper model and its batching knobs."""

    model: str = "base"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str = Field("default", description="CTranslate2 compute type: int8, float16, ...")
    cpu_threads: int = Field(0, ge=0, description="0 lets CTranslate2 choose.")
    max_batch_size: int = Field(8, ge=1, le=64, description="Chunks served by one forward pass.")
    batch_wait_timeout_s: float = Field(
        0.3,
        ge=0,
        le=5,
        description="How long a batch waits to fill (chunks of concurrent tasks arrive staggered).",
    )
    pack: bool = Field(True, description="Pack short clips of several callers into one 30-s window.")
    stack: Literal["auto", "on", "off"] = Field("auto", description="Stack windows as a batch (auto: GPU).")


class ModelsArgs(_Args):
    served: list[TranscriberArgs] = Field(default_factory=lambda: [TranscriberArgs()], min_length=1)
    default: str | None = Field(None, description="Model used when a request names none (first served).")
    cache_dir: str = "~/.cache/auralab/models"
    hub_online: bool = Field(False, description="Allow Hugging Face hub downloads (HF_HUB_OFFLINE=0).")
    align_models: dict[str, str] = Field(
        default_factory=dict, description="wav2vec2 alignment model per language code (local dir or hub id)."
    )

    @model_validator(mode="after")
    def _default_is_served(self) -> ModelsArgs:
        names = [m.model for m in self.served]
        if len(set(names)) != len(names):
            raise ValueError(f"models.served lists a model twice: {names}")
        if self.default is not None and self.default not in names:
            raise ValueError(f"models.default {self.default!r} is not in models.served {names}")
        return self

    def apply_hub_mode(self) -> None:
        """Tell the Hugging Face libraries whether a hub is reachable, before any of them loads:
        offline, every hub lookup fails at once instead of retrying for minutes. Called in each
        model replica's constructor (the environment of the process that built the app does not
        reach the replicas)."""
        import os

        os.environ["HF_HUB_OFFLINE"] = "0" if self.hub_online else "1"

    @property
    def default_model(self) -> str:
        return self.default or self.served[0].model

    @property
    def names(self) -> list[str]:
        return [m.model for m in self.served]


class DiarizationArgs(_Args):
    backend: Literal["offline", "pyannote"] = "offline"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    pyannote_pipeline: str | None = Field(
        None, description="Local pyannote pipeline dir/config.yaml, or a hub id (needs HF_WHISPERX + hub)."
    )


class RunnerArgs(_Args):
    max_concurrent_tasks: int = Field(
        16, ge=1, description="Tasks one runner replica works on at once (mostly waiting on model replicas)."
    )
    lease_timeout_s: float = Field(60.0, gt=0, description="A task whose heartbeat is older is taken over.")
    heartbeat_interval_s: float = Field(5.0, gt=0)
    scan_interval_s: float = Field(2.0, gt=0, description="How often runners look for orphaned tasks.")
    max_attempts: int = Field(3, ge=1, description="Runs of one task before it fails for good.")
    chunk_concurrency: int = Field(16, ge=1, description="Chunks of one task in flight at once.")
    delete_uploads: bool = Field(False, description="Delete the upload once the task has finished.")

    @model_validator(mode="after")
    def _heartbeat_inside_lease(self) -> RunnerArgs:
        if self.heartbeat_interval_s >= self.lease_timeout_s:
            raise ValueError("runner.heartbeat_interval_s must be shorter than runner.lease_timeout_s")
        return self


class LimitsArgs(_Args):
    max_upload_mb: float = Field(100.0, gt=0)
    max_audio_duration_s: float = Field(4 * 3600.0, gt=0)
    max_text_chars: int = Field(2000, gt=0, description="Chat and translation text.")
    max_image_mb: float = Field(10.0, gt=0)
    max_channels: int = Field(8, ge=1, le=64, description="Audio channels an upload may have.")
    max_sample_rate_hz: int = Field(192_000, ge=8000, description="Highest sample rate an upload may have.")
    upload_timeout_s: float = Field(
        600.0, gt=0, description="Time one upload may take to arrive (bounds slow senders holding a slot)."
    )

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


class VivoArgs(_Args):
    """vivo BlueLM platform; credentials come from APPID/APPKEY in the environment only."""

    base_url: str | None = Field(None, description="Default https://api-ai.vivo.com.cn; VIVO_BASE_URL wins.")
    auth: Literal["hmac", "bearer"] = "hmac"
    timeout_s: float = Field(30.0, gt=0)
    max_retries: int = Field(2, ge=0, le=5)


class SecurityArgs(_Args):
    """Access control for our own clients. Keys come from AURALAB_API_KEYS (comma-separated) or a
    mounted file (AURALAB_API_KEYS_FILE), never from this config."""

    require_api_key: bool = Field(
        False, description="Require 'Authorization: Bearer <key>' (not on /health)."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Allowed browser origins; ['*'] only when keys are not required."
    )
    rate_limit_per_minute: float = Field(0, ge=0, description="Requests per minute per key (0: unlimited).")
    rate_limit_burst: int = Field(20, ge=1, description="Requests a key may send at once above the rate.")
    max_concurrent_uploads: int = Field(8, ge=1, description="Uploads one gateway replica receives at once.")

    @model_validator(mode="after")
    def _no_wildcard_with_keys(self) -> SecurityArgs:
        if self.require_api_key and "*" in self.cors_origins:
            raise ValueError("security.cors_origins may not be '*' while require_api_key is on")
        return self


class RetentionArgs(_Args):
    """How long stored data lives (0 keeps it forever)."""

    results_ttl_hours: float = Field(0, ge=0, description="Delete finished tasks, results and uploads after.")
    janitor_interval_s: float = Field(600, gt=0, description="How often a runner sweeps expired tasks.")


class AppArgs(_Args):
    storage: StorageArgs = Field(default_factory=StorageArgs)
    models: ModelsArgs = Field(default_factory=ModelsArgs)
    diarization: DiarizationArgs = Field(default_factory=DiarizationArgs)
    runner: RunnerArgs = Field(default_factory=RunnerArgs)
    limits: LimitsArgs = Field(default_factory=LimitsArgs)
    vivo: VivoArgs = Field(default_factory=VivoArgs)
    security: SecurityArgs = Field(default_factory=SecurityArgs)
    retention: RetentionArgs = Field(default_factory=RetentionArgs)

    @field_validator("storage")
    @classmethod
    def _pin_root(cls, value: StorageArgs) -> StorageArgs:
        return value.resolved()
