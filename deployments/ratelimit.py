"""Token buckets for per-client rate limits, shared by every gateway replica through one Ray actor.

``Buckets`` is the plain algorithm (no Ray, unit-tested alone). ``RateLimiterActor`` holds one
``Buckets`` for the whole application: a small named actor (not detached, so it goes away with the
cluster) that every gateway replica finds by name with ``get_if_exists``. ``SharedRateLimiter`` is
what a gateway replica uses: it asks the actor, and when the actor cannot answer in time (it is
starting, or its owner replica died with it) it falls back to buckets in its own memory for a while,
so a limiter outage never blocks or fails a request; the limit is then enforced per replica.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("ray.serve")

ACTOR_PREFIX = "auralab-ratelimiter"
_ACTOR_TIMEOUT_S = 1.0
_ACTOR_START_TIMEOUT_S = 20.0  # the first call waits for the actor's worker process to start
_ACTOR_RETRY_S = 10.0


@dataclass
class _Bucket:
    tokens: float
    updated: float


class Buckets:
    """Token buckets by key: ``burst`` tokens at most, refilled at ``rate_per_s``."""

    def __init__(self, max_keys: int = 100_000):
        self._buckets: dict[str, _Bucket] = {}
        self._max_keys = max_keys

    def take(self, key: str, rate_per_s: float, burst: float, now: float | None = None) -> float:
        """Take one token. Returns 0.0 when allowed, else the seconds until a token will be there."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._forget_full(now, rate_per_s, burst)
            bucket = self._buckets[key] = _Bucket(tokens=float(burst), updated=now)
        bucket.tokens = min(float(burst), bucket.tokens + max(0.0, now - bucket.updated) * rate_per_s)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate_per_s

    def _forget_full(self, now: float, rate_per_s: float, burst: float) -> None:
        """Drop buckets that have refilled completely: forgetting them changes nothing."""
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * rate_per_s >= burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self._max_keys:  # still full of busy clients: start over, stay bounded
            self._buckets.clear()

    def __len__(self) -> int:
        return len(self._buckets)


class RateLimiterActor:
    """The application's one set of buckets (wrapped with ``ray.remote`` when first needed)."""

    def __init__(self) -> None:
        self.buckets = Buckets()

    def take(self, key: str, rate_per_s: float, burst: float) -> float:
        return self.buckets.take(key, rate_per_s, burst)

    def ready(self) -> bool:
        return True


class SharedRateLimiter:
    """Per-key limits consistent across gateway replicas, with a local fallback."""

    def __init__(self, per_minute: float, burst: int, actor_name: str, use_ray: bool = True):
        self.rate_per_s = per_minute / 60.0
        self.burst = burst
        self.actor_name = actor_name
        self.local = Buckets()
        self._use_ray = use_ray
        self._actor: Any = None
        self._actor_retry_at = 0.0
        self._connecting = asyncio.Lock()

    async def retry_after(self, key: str) -> float:
        """0.0 when ``key`` may go ahead, else how many seconds it should wait."""
        actor = await self._get_actor()
        if actor is not None:
            try:
                ref = actor.take.remote(key, self.rate_per_s, self.burst)
                return float(await asyncio.wait_for(ref, timeout=_ACTOR_TIMEOUT_S))
            except Exception as exc:
                self._actor, self._actor_retry_at = None, time.monotonic() + _ACTOR_RETRY_S
                logger.warning(
                    "rate limiter actor unavailable (%s); limiting per replica", type(exc).__name__
                )
        return self.local.take(key, self.rate_per_s, self.burst)

    async def _get_actor(self) -> Any:
        if self._actor is not None or not self._use_ray or time.monotonic() < self._actor_retry_at:
            return self._actor
        async with self._connecting:  # one connection attempt at a time; the others wait for it
            if self._actor is not None or time.monotonic() < self._actor_retry_at:
                return self._actor
            try:
                actor = await asyncio.wait_for(asyncio.to_thread(self._connect), timeout=5.0)
                if actor is not None:
                    await asyncio.wait_for(actor.ready.remote(), timeout=_ACTOR_START_TIMEOUT_S)
                self._actor = actor
            except Exception as exc:
                self._actor_retry_at = time.monotonic() + _ACTOR_RETRY_S
                logger.warning(
                    "rate limiter actor not reachable (%s); limiting per replica", type(exc).__name__
                )
            if self._actor is None:
                self._actor_retry_at = max(self._actor_retry_at, time.monotonic() + _ACTOR_RETRY_S)
        return self._actor

    def _connect(self) -> Any:
        import ray

        if not ray.is_initialized():
            return None
        remote = ray.remote(num_cpus=0, max_restarts=0)(RateLimiterActor)
        return remote.options(name=self.actor_name, get_if_exists=True).remote()


def actor_name_for_app() -> str:
    """One limiter per Serve application (the replica's namespace is Serve's own)."""
    try:
        from ray import serve

        return f"{ACTOR_PREFIX}-{serve.get_replica_context().app_name}"
    except Exception:
        return ACTOR_PREFIX
