"""``VivoClient``: the one object deployments hold to call every vivo capability.

It owns a single pooled HTTP client (create one per replica, close it with :meth:`aclose` or use it as
an async context manager). Every method accepts ``credentials=(app_id, app_key)`` to sign that one
call with the caller's own vivo account, as the old app allowed, without building another client.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx

from vivo import chat as _chat
from vivo import lasr as _lasr
from vivo import ocr as _ocr
from vivo import rerank as _rerank
from vivo import translate as _translate
from vivo import tts as _tts
from vivo.config import VivoSettings
from vivo.errors import VivoBadRequest
from vivo.transport import VivoTransport

Creds = tuple[str, str] | None


class VivoClient:
    """Async client for the vivo AI platform (chat, vision, TTS, LASR, translation, OCR, rerank)."""

    def __init__(
        self,
        settings: VivoSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``transport`` replaces the network (``httpx.MockTransport`` in unit tests)."""
        self.settings = settings
        self.transport = VivoTransport(settings, transport=transport)

    def __repr__(self) -> str:
        return f"VivoClient({self.settings!r})"

    async def __aenter__(self) -> VivoClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections; the client cannot be used afterwards."""
        await self.transport.aclose()

    # --- chat -------------------------------------------------------------------------------

    async def chat(
        self,
        messages: Sequence[Mapping[str, Any]] | None = None,
        *,
        prompt: str | None = None,
        system_prompt: str | None = None,
        model: str = _chat.DEFAULT_MODEL,
        session_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        credentials: Creds = None,
    ) -> _chat.ChatReply:
        """One chat completion from ``messages`` (multi-turn) or ``prompt`` (vivo keeps history)."""
        body = _chat.build_body(
            messages,
            prompt=prompt,
            system_prompt=system_prompt,
            model=model,
            session_id=_session(session_id),
            extra=extra,
        )
        return await _chat.complete(self.transport, body, request_id=request_id, credentials=credentials)

    def chat_stream(
        self,
        messages: Sequence[Mapping[str, Any]] | None = None,
        *,
        prompt: str | None = None,
        system_prompt: str | None = None,
        model: str = _chat.DEFAULT_MODEL,
        session_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        credentials: Creds = None,
    ) -> AsyncIterator[str]:
        """Async iterator of reply text pieces as vivo streams them (SSE)."""
        body = _chat.build_body(
            messages,
            prompt=prompt,
            system_prompt=system_prompt,
            model=model,
            session_id=_session(session_id),
            extra=extra,
        )
        return _chat.stream(self.transport, body, request_id=request_id, credentials=credentials)

    async def vision_chat(
        self,
        image: bytes,
        question: str,
        *,
        history: Sequence[Mapping[str, Any]] = (),
        model: str = _chat.DEFAULT_VISION_MODEL,
        session_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
        credentials: Creds = None,
    ) -> _chat.ChatReply:
        """Ask a vision model (``vivo-BlueLM-V-2.0`` or ``BlueLM-Vision-prd``) about an image."""
        body = _vision_body(image, question, history, model, session_id, extra)
        return await _chat.complete(self.transport, body, credentials=credentials)

    def vision_chat_stream(
        self,
        image: bytes,
        question: str,
        *,
        history: Sequence[Mapping[str, Any]] = (),
        model: str = _chat.DEFAULT_VISION_MODEL,
        session_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
        credentials: Creds = None,
    ) -> AsyncIterator[str]:
        """Like :meth:`vision_chat`, streamed as text pieces."""
        body = _vision_body(image, question, history, model, session_id, extra)
        return _chat.stream(self.transport, body, credentials=credentials)

    # --- speech -----------------------------------------------------------------------------

    def tts_stream(
        self,
        text: str,
        *,
        mode: str | None = None,
        vcn: str | None = None,
        speed: int | None = None,
        volume: int | None = None,
        credentials: Creds = None,
    ) -> AsyncIterator[bytes]:
        """PCM chunks (24 kHz, 16-bit, mono) as vivo synthesizes them; mode defaults to human."""
        return _tts.synthesize(
            self.transport,
            text,
            mode=mode,
            vcn=vcn,
            speed=speed,
            volume=volume,
            credentials=credentials,
        )

    async def tts_wav(
        self,
        text: str,
        *,
        mode: str | None = None,
        vcn: str | None = None,
        speed: int | None = None,
        volume: int | None = None,
        credentials: Creds = None,
    ) -> bytes:
        """A complete WAV file (44-byte header + PCM) of ``text`` spoken."""
        stream = self.tts_stream(
            text, mode=mode, vcn=vcn, speed=speed, volume=volume, credentials=credentials
        )
        return _tts.pcm_to_wav(b"".join([chunk async for chunk in stream]))

    async def lasr_start(
        self,
        audio: _lasr.AudioSource,
        *,
        audio_type: str = "auto",
        slice_bytes: int = _lasr.SLICE_BYTES,
        credentials: Creds = None,
    ) -> _lasr.LasrJob:
        """Submit audio (bytes or a file path) for long-speech transcription; returns the job ids."""
        return await _lasr.start(
            self.transport,
            audio,
            audio_type=audio_type,
            slice_bytes=slice_bytes,
            credentials=credentials,
        )

    async def lasr_wait(
        self,
        job: _lasr.LasrJob,
        *,
        on_progress: _lasr.ProgressCallback | None = None,
        poll_interval_s: float = 1.0,
        timeout_s: float | None = None,
        credentials: Creds = None,
    ) -> list[_lasr.LasrSentence]:
        """Poll a job to completion (``on_progress(percent)`` on each change), return sentences."""
        return await _lasr.wait(
            self.transport,
            job,
            on_progress=on_progress,
            poll_interval_s=poll_interval_s,
            timeout_s=timeout_s,
            credentials=credentials,
        )

    async def transcribe_long(
        self,
        audio: _lasr.AudioSource,
        *,
        audio_type: str = "auto",
        on_progress: _lasr.ProgressCallback | None = None,
        poll_interval_s: float = 1.0,
        timeout_s: float | None = None,
        credentials: Creds = None,
    ) -> list[_lasr.LasrSentence]:
        """The whole five-step flow: :meth:`lasr_start` then :meth:`lasr_wait`."""
        job = await self.lasr_start(audio, audio_type=audio_type, credentials=credentials)
        return await self.lasr_wait(
            job,
            on_progress=on_progress,
            poll_interval_s=poll_interval_s,
            timeout_s=timeout_s,
            credentials=credentials,
        )

    # --- text and images --------------------------------------------------------------------

    async def translate(
        self, text: str, source: str, target: str, *, credentials: Creds = None
    ) -> _translate.Translation:
        """Translate between zh/en/ja/ko (source may be ``auto``); others raise VivoBadRequest."""
        return await _translate.translate(self.transport, text, source, target, credentials=credentials)

    async def ocr(
        self,
        image: bytes,
        *,
        pos: int = 2,
        business_id: str = _ocr.DEFAULT_BUSINESS_ID,
        credentials: Creds = None,
    ) -> _ocr.OcrResult:
        """Recognise text in an image; ``.to_dict()`` gives ``{"text", "lines", "angle"}``."""
        return await _ocr.recognize(
            self.transport, image, pos=pos, business_id=business_id, credentials=credentials
        )

    async def rerank(
        self,
        query: str,
        sentences: Sequence[str],
        *,
        model: str = _rerank.DEFAULT_RERANK_MODEL,
        credentials: Creds = None,
    ) -> list[float]:
        """Raw relevance score of each sentence against ``query`` (higher is closer)."""
        return await _rerank.rerank(self.transport, query, sentences, model=model, credentials=credentials)


def _session(session_id: str | None) -> str:
    return session_id or uuid.uuid4().hex


def _vision_body(
    image: bytes,
    question: str,
    history: Sequence[Mapping[str, Any]],
    model: str,
    session_id: str | None,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    if model not in _chat.VISION_MODELS:
        raise VivoBadRequest(f"{model!r} is not a vision model; use one of {sorted(_chat.VISION_MODELS)}")
    messages = _chat.vision_messages(image, question, history)
    return _chat.build_body(
        messages,
        prompt=None,
        system_prompt=None,
        model=model,
        session_id=_session(session_id),
        extra=extra,
    )
