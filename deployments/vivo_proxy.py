"""vivo BlueLM proxy deployments: light CPU replicas that sign and forward calls to vivo.

Each replica owns ONE pooled :class:`~vivo.VivoClient`, built in ``__init__`` from the environment
(``APPID``/``APPKEY`` win over config, ``VIVO_BASE_URL`` points it elsewhere) and closed when Serve
shuts the replica down. A call may carry the caller's own ``credentials=(app_id, app_key)``; they sign
that call only and are never logged. Without any credentials every method raises
:class:`~vivo.VivoNotConfigured` (503 ``vivo_not_configured``) and the rest of the app keeps working.

Errors are the vivo client's (``code``/``status``/``retry_after`` class attributes, pickle-safe), so
the gateway maps them like its own. Latency and errors are recorded per capability.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from ray import serve

from deployments import metrics
from deployments.config import VivoArgs
from deployments.vivo_evaluation import SYSTEM_PROMPT, build_prompt, evaluation
from vivo import ChatReply, OcrResult, Translation, VivoClient, VivoError, VivoSettings

logger = logging.getLogger("ray.serve")
T = TypeVar("T")
Creds = tuple[str, str] | None

# Defaults in code; serve_config.yaml may override any of them per deployment.
_AUTOSCALING = {
    "min_replicas": 1,
    "initial_replicas": 1,
    "max_replicas": 4,
    "target_ongoing_requests": 16,
    "upscale_delay_s": 5,
    "downscale_delay_s": 120,
}


def client_from_args(args: VivoArgs) -> VivoClient:
    """A client for the configured vivo; call inside a replica (it reads the environment)."""
    settings = VivoSettings.from_env(
        base_url=args.base_url, auth=args.auth, timeout_s=args.timeout_s, max_retries=args.max_retries
    )
    if not settings.configured:
        logger.warning("vivo credentials are not configured: set APPID and APPKEY to enable BlueLM routes")
    return VivoClient(settings)


async def measured(capability: str, call: Awaitable[T]) -> T:
    """Await one upstream call, recording its latency, or its error code."""
    started = time.perf_counter()
    try:
        result = await call
    except VivoError as exc:
        metrics.count(metrics.VIVO_ERRORS, capability=capability, code=exc.code)
        raise
    metrics.observe(metrics.VIVO_LATENCY, time.perf_counter() - started, capability=capability)
    return result


async def measured_stream(capability: str, stream: AsyncIterator[T]) -> AsyncIterator[T]:
    """Yield from an upstream stream, recording the whole stream's latency or its error code."""
    started = time.perf_counter()
    try:
        async for item in stream:
            yield item
    except VivoError as exc:
        metrics.count(metrics.VIVO_ERRORS, capability=capability, code=exc.code)
        raise
    metrics.observe(metrics.VIVO_LATENCY, time.perf_counter() - started, capability=capability)


class _VivoReplica:
    """Client ownership shared by both proxies: built once, closed on shutdown."""

    def __init__(self, args: VivoArgs, client_factory: Callable[[VivoArgs], VivoClient] = client_from_args):
        self.client = client_factory(args)

    def configured(self) -> bool:
        return self.client.settings.configured

    async def __del__(self) -> None:
        """Serve calls this when the replica stops: close the pooled connections."""
        client = getattr(self, "client", None)
        if client is not None:
            await client.aclose()


@serve.deployment(
    max_ongoing_requests=64,
    autoscaling_config=_AUTOSCALING,
    ray_actor_options={"num_cpus": 0.1},
    health_check_period_s=30,
)
class VivoChat(_VivoReplica):
    """Chat (sync and streamed), vision chat, translation, OCR, rerank and translation evaluation."""

    async def chat(
        self, messages: Sequence[Mapping[str, Any]], *, session_id: str, credentials: Creds = None
    ) -> ChatReply:
        return await measured(
            "chat", self.client.chat(messages, session_id=session_id, credentials=credentials)
        )

    async def chat_stream(
        self, messages: Sequence[Mapping[str, Any]], *, session_id: str, credentials: Creds = None
    ) -> AsyncIterator[str]:
        """Reply text pieces as vivo streams them (call with ``handle.options(stream=True)``)."""
        stream = self.client.chat_stream(messages, session_id=session_id, credentials=credentials)
        async for piece in measured_stream("chat_stream", stream):
            yield piece

    async def vision_chat(
        self,
        image: bytes,
        question: str,
        *,
        history: Sequence[Mapping[str, Any]] = (),
        session_id: str | None = None,
        credentials: Creds = None,
    ) -> ChatReply:
        call = self.client.vision_chat(
            image, question, history=history, session_id=session_id, credentials=credentials
        )
        return await measured("vision_chat", call)

    async def translate(
        self, text: str, source: str, target: str, *, credentials: Creds = None
    ) -> Translation:
        return await measured(
            "translate", self.client.translate(text, source, target, credentials=credentials)
        )

    async def ocr(self, image: bytes, *, pos: int, credentials: Creds = None) -> OcrResult:
        return await measured("ocr", self.client.ocr(image, pos=pos, credentials=credentials))

    async def rerank(self, query: str, sentences: Sequence[str], *, credentials: Creds = None) -> list[float]:
        return await measured("rerank", self.client.rerank(query, sentences, credentials=credentials))

    async def evaluate(
        self,
        original: str,
        user: str,
        reference: str,
        *,
        source: str | None = None,
        target: str | None = None,
        context: str | None = None,
        credentials: Creds = None,
    ) -> dict[str, Any]:
        """Rerank similarity and a BlueLM critique, fetched concurrently, combined into scores."""
        prompt = build_prompt(original, user, reference, source, target, context)
        messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}]
        scores, reply = await asyncio.gather(
            self.rerank(user, [reference], credentials=credentials),
            measured("chat", self.client.chat(messages, credentials=credentials)),
        )
        return evaluation(scores[0], reply.content)


@serve.deployment(
    max_ongoing_requests=32,
    autoscaling_config=_AUTOSCALING,
    ray_actor_options={"num_cpus": 0.1},
    health_check_period_s=30,
)
class VivoTTS(_VivoReplica):
    """Text to speech: a whole WAV, or PCM chunks streamed as vivo synthesizes them."""

    async def wav(
        self,
        text: str,
        *,
        mode: str | None = None,
        vcn: str | None = None,
        speed: int | None = None,
        volume: int | None = None,
        credentials: Creds = None,
    ) -> bytes:
        call = self.client.tts_wav(
            text, mode=mode, vcn=vcn, speed=speed, volume=volume, credentials=credentials
        )
        return await measured("tts", call)

    async def pcm_stream(
        self,
        text: str,
        *,
        mode: str | None = None,
        vcn: str | None = None,
        speed: int | None = None,
        volume: int | None = None,
        credentials: Creds = None,
    ) -> AsyncIterator[bytes]:
        """24 kHz 16-bit mono PCM chunks (call with ``handle.options(stream=True)``)."""
        stream = self.client.tts_stream(
            text, mode=mode, vcn=vcn, speed=speed, volume=volume, credentials=credentials
        )
        async for chunk in measured_stream("tts_stream", stream):
            yield chunk
