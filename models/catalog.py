"""The Whisper models we serve and where their CTranslate2 weights come from."""

from __future__ import annotations

from dataclasses import dataclass

from models.errors import UnknownModel


@dataclass(frozen=True)
class ModelSpec:
    """One servable model: its public name, its hub repository and a description for clients."""

    name: str
    hub_repo: str
    description: str
    parameters: str
    english_only: bool = False


CATALOG: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("tiny", "Systran/faster-whisper-tiny", "Fastest, lowest accuracy", "39M"),
        ModelSpec("tiny.en", "Systran/faster-whisper-tiny.en", "Tiny, English only", "39M", True),
        ModelSpec("base", "Systran/faster-whisper-base", "Fast, bundled default", "74M"),
        ModelSpec("base.en", "Systran/faster-whisper-base.en", "Base, English only", "74M", True),
        ModelSpec("small", "Systran/faster-whisper-small", "Balanced speed and accuracy", "244M"),
        ModelSpec("small.en", "Systran/faster-whisper-small.en", "Small, English only", "244M", True),
        ModelSpec("medium", "Systran/faster-whisper-medium", "High accuracy", "769M"),
        ModelSpec("medium.en", "Systran/faster-whisper-medium.en", "Medium, English only", "769M", True),
        ModelSpec("large-v3", "Systran/faster-whisper-large-v3", "Best accuracy, slowest", "1550M"),
        ModelSpec(
            "turbo",
            "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
            "Large-v3 with a pruned decoder: near-large accuracy, much faster",
            "809M",
        ),
    )
}


def model_names() -> list[str]:
    """Every name the catalog knows, in catalog order."""
    return list(CATALOG)


def get_spec(name: str, served: list[str] | None = None) -> ModelSpec:
    """Look a model up by name; ``served`` narrows the catalog to what a deployment offers.

    Unknown names raise :class:`UnknownModel` listing the available ones: a typo must never fall
    back silently to another model (the old service fell back to ``small``).
    """
    available = [n for n in CATALOG if served is None or n in served]
    if name not in available:
        raise UnknownModel(f"Unknown model {name!r}. Available models: {', '.join(available)}.")
    return CATALOG[name]
