"""Speaker embeddings of short sliding windows, from the encoder that ships inside resemblyzer.

resemblyzer's ``pretrained.pt`` is a GE2E d-vector LSTM: it is installed with the wheel, so this
backend needs no hub and no download. Windows are short (1.5 s) so a speaker change is located
to within a hop; they never cross a silence, so each embedding describes one stretch of speech.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import torch

_MEL_FRAMES_PER_S = 100  # resemblyzer's mel hop is 10 ms
_TARGET_DBFS = -30.0  # the loudness resemblyzer normalises its training audio to
_MAX_BATCH = 128


@dataclass(frozen=True)
class Window:
    """A span of speech (seconds) that gets one embedding."""

    start: float
    end: float
    region: int  # index of the speech region the window lies in

    @property
    def centre(self) -> float:
        return (self.start + self.end) / 2

    @property
    def duration(self) -> float:
        return self.end - self.start


def sliding_windows(regions: list[tuple[float, float]], window_s: float, hop_s: float) -> list[Window]:
    """Cover each speech region with windows; the last one is aligned to the region's end.

    A region shorter than one window becomes a single, shorter window.
    """
    windows: list[Window] = []
    for region, (start, end) in enumerate(regions):
        if end - start <= window_s:
            windows.append(Window(start, end, region))
            continue
        count = int(np.ceil((end - start - window_s) / hop_s))
        starts = [start + i * hop_s for i in range(count)] + [end - window_s]
        windows += [Window(s, s + window_s, region) for s in starts]
    return windows


class WindowEmbedder:
    """Holds the voice encoder (loaded once) and embeds many windows of one recording."""

    def __init__(self, device: str = "cpu") -> None:
        from resemblyzer import VoiceEncoder

        self._encoder = VoiceEncoder(device=device, verbose=False)
        self._device = torch.device(device)

    def embed(self, audio: np.ndarray, windows: list[Window]) -> np.ndarray:
        """Return an ``(n_windows, 256)`` array of L2-normalised embeddings.

        The mel spectrogram is computed once for the whole recording and sliced per window;
        windows of equal length are stacked into one forward pass.
        """
        from resemblyzer.audio import normalize_volume, wav_to_mel_spectrogram

        mel = wav_to_mel_spectrogram(normalize_volume(audio, _TARGET_DBFS, increase_only=True))
        slices = [_mel_slice(mel, w) for w in windows]
        out = np.zeros((len(windows), 256), dtype=np.float32)
        by_length: dict[int, list[int]] = defaultdict(list)
        for index, frames in enumerate(slices):
            by_length[len(frames)].append(index)
        with torch.inference_mode():
            for indices in by_length.values():
                for chunk in np.array_split(indices, int(np.ceil(len(indices) / _MAX_BATCH))):
                    batch = torch.from_numpy(np.stack([slices[i] for i in chunk]))
                    out[chunk] = self._encoder(batch.to(self._device)).cpu().numpy()
        return out


def _mel_slice(mel: np.ndarray, window: Window) -> np.ndarray:
    first = round(window.start * _MEL_FRAMES_PER_S)
    last = max(first + 1, round(window.end * _MEL_FRAMES_PER_S))
    return mel[first:last]
