"""Build a diarizer from plain configuration values (the deployment passes them in)."""

from __future__ import annotations

from typing import Literal

from models.diarization.base import Diarizer

Backend = Literal["offline", "pyannote"]


def load_diarizer(
    backend: Backend = "offline",
    device: str = "cpu",
    pyannote_pipeline: str | None = None,
    hf_token: str | None = None,
    hub_online: bool = False,
) -> Diarizer:
    """Load the weights of one backend, once; the returned object serves many calls.

    ``offline`` uses only weights shipped inside installed wheels. ``pyannote`` needs
    ``pyannote_pipeline`` (a local directory or config.yaml) or ``hf_token`` with
    ``hub_online=True``, and raises :class:`DiarizationUnavailable` at once otherwise.
    """
    if backend == "offline":
        from models.diarization.offline import OfflineDiarizer

        return OfflineDiarizer(device=device)
    if backend == "pyannote":
        from models.diarization.pyannote_backend import PyannoteDiarizer

        return PyannoteDiarizer(
            device=device, pipeline=pyannote_pipeline, hf_token=hf_token, hub_online=hub_online
        )
    raise ValueError(f"Unknown diarization backend {backend!r}; choose 'offline' or 'pyannote'")
