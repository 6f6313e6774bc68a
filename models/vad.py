"""Speech detection with Silero VAD, loaded from the ``silero-vad`` wheel (no torch.hub, no network)."""

from __future__ import annotations

import threading

import numpy as np
import torch

SAMPLE_RATE = 16000


class SpeechDetector:
    """Finds speech regions in 16 kHz mono audio.

    The model is loaded once per detector. Silero's model keeps recurrent state between windows,
    so calls are serialised by a lock: the detector is thread-safe, one call runs at a time.
    """

    def __init__(
        self,
        threshold: float = 0.5,
        min_speech_ms: int = 250,
        min_silence_ms: int = 100,
        speech_pad_ms: int = 30,
    ) -> None:
        from silero_vad import load_silero_vad

        self._model = load_silero_vad(onnx=False)
        self._lock = threading.Lock()
        self._options = {
            "threshold": threshold,
            "min_speech_duration_ms": min_speech_ms,
            "min_silence_duration_ms": min_silence_ms,
            "speech_pad_ms": speech_pad_ms,
        }

    def regions(self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> list[tuple[float, float]]:
        """Return speech regions as ``(start_s, end_s)`` pairs, in order.

        Silero supports 8 and 16 kHz; anything else is a caller bug (decode to 16 kHz first).
        """
        if sample_rate not in (8000, 16000):
            raise ValueError(f"Silero VAD needs 8 or 16 kHz audio, got {sample_rate} Hz")
        if audio.size == 0:
            return []
        from silero_vad import get_speech_timestamps

        tensor = torch.from_numpy(np.array(audio, dtype=np.float32))  # a writable copy
        with self._lock, torch.inference_mode():
            stamps = get_speech_timestamps(tensor, self._model, sampling_rate=sample_rate, **self._options)
            self._model.reset_states()
        return [(s["start"] / sample_rate, s["end"] / sample_rate) for s in stamps]
