"""Async client for the vivo AI platform (BlueLM): signing, chat, vision, TTS, LASR, translation, OCR.

No Ray and no FastAPI here: deployments build one :class:`VivoClient` per replica from
:class:`VivoSettings` and map the :class:`VivoError` family onto HTTP answers at the gateway.
"""

from vivo.chat import DEFAULT_MODEL, DEFAULT_VISION_MODEL, VISION_MODELS, ChatReply
from vivo.client import VivoClient
from vivo.config import Credentials, VivoSettings
from vivo.errors import (
    VivoAuthError,
    VivoBadRequest,
    VivoError,
    VivoModerationError,
    VivoNotConfigured,
    VivoQuotaExceeded,
    VivoRateLimited,
    VivoUnavailable,
    VivoUpstreamError,
)
from vivo.lasr import LasrJob, LasrSentence
from vivo.ocr import OcrLine, OcrResult
from vivo.translate import Translation
from vivo.tts import ENGINES as TTS_ENGINES
from vivo.tts import pcm_to_wav, resolve_voice, split_text, wav_header

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_VISION_MODEL",
    "TTS_ENGINES",
    "VISION_MODELS",
    "ChatReply",
    "Credentials",
    "LasrJob",
    "LasrSentence",
    "OcrLine",
    "OcrResult",
    "Translation",
    "VivoAuthError",
    "VivoBadRequest",
    "VivoClient",
    "VivoError",
    "VivoModerationError",
    "VivoNotConfigured",
    "VivoQuotaExceeded",
    "VivoRateLimited",
    "VivoSettings",
    "VivoUnavailable",
    "VivoUpstreamError",
    "pcm_to_wav",
    "resolve_voice",
    "split_text",
    "wav_header",
]
