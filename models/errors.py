"""Errors raised by the ML engine.

Each class carries a stable machine ``code`` and an HTTP ``status`` as class attributes; the gateway
maps them to one JSON shape. Constructors take only a message so the exceptions survive pickling
across Ray handles.
"""

from __future__ import annotations


class ModelError(Exception):
    """Base class of every error the ``models`` package raises on purpose."""

    code = "model_error"
    status = 500


class InvalidMedia(ModelError):
    """The bytes are not audio/video we can decode: corrupt, unknown, or without an audio stream."""

    code = "invalid_audio"
    status = 400


class EmptyMedia(ModelError):
    """The media decodes but holds no audio samples (zero duration)."""

    code = "empty_audio"
    status = 400


class MediaTooLong(ModelError):
    """The media is longer than the configured limit."""

    code = "audio_too_long"
    status = 413


class UnknownModel(ModelError):
    """A model name outside the catalog; the message lists the available names."""

    code = "unknown_model"
    status = 400


class ModelUnavailable(ModelError):
    """A known model whose weights cannot be found in any configured source right now."""

    code = "model_unavailable"
    status = 503
    retry_after = 30


class AlignmentUnavailable(ModelError):
    """Wav2vec2 alignment was asked for but no alignment model is configured for the language.

    A 400: the caller can retry without alignment (or with a supported language); retrying the
    same request later will not help until an operator adds the model.
    """

    code = "alignment_unavailable"
    status = 400
