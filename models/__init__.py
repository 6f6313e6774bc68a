"""The machine-learning side: model catalog and weights, the WhisperX engine, diarization and
output writers. Importable without Ray."""
