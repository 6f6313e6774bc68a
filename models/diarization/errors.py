"""Errors raised by diarization; they join the engine's vocabulary in :mod:`models.errors`."""

from __future__ import annotations

from models.errors import ModelError


class DiarizationUnavailable(ModelError):
    """The requested diarization backend cannot run with what is configured.

    Raised at load time, before any hub request, so a misconfigured deployment fails fast with a
    message saying what to set instead of hanging on retries. The constructor takes only the
    message so the exception survives pickling across Ray handles.
    """

    code = "diarization_unavailable"
    status = 503
