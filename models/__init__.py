"""The machine-learning side: model catalog and weights, the WhisperX engine, diarization, output writers. Importable without Ray."""
