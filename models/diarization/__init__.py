"""Speaker diarization: who speaks when, and which speaker said each word.

Importable without Ray, and cheap to import: backends load their models only in
:func:`load_diarizer`.
"""

from models.diarization.assign import assign_speakers
from models.diarization.base import Diarizer
from models.diarization.errors import DiarizationUnavailable
from models.diarization.factory import load_diarizer
from models.diarization.metrics import (
    DiarizationErrors,
    diarization_error_rate,
    diarization_errors,
    word_speaker_accuracy,
)

__all__ = [
    "DiarizationErrors",
    "DiarizationUnavailable",
    "Diarizer",
    "assign_speakers",
    "diarization_error_rate",
    "diarization_errors",
    "load_diarizer",
    "word_speaker_accuracy",
]
