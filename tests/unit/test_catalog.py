"""Model catalog and weight resolution: cache → object store → bundled base, never a silent fallback."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from models.catalog import get_spec, model_names
from models.errors import ModelUnavailable, UnknownModel
from models.weights import BUNDLED_BASE_BYTES, push_model, resolve_model
from storage import open_store

pytestmark = pytest.mark.unit

EXPECTED = [
    "tiny",
    "tiny.en",
    "base",
    "base.en",
    "small",
    "small.en",
    "medium",
    "medium.en",
    "large-v3",
    "turbo",
]


def fake_model(directory: Path, marker: str = "x") -> Path:
    directory.mkdir(parents=True)
    (directory / "model.bin").write_bytes(marker.encode() * 100)
    (directory / "config.json").write_text("{}")
    (directory / "tokenizer.json").write_text("{}")
    return directory


def test_catalog_names_and_hub_sources():
    assert model_names() == EXPECTED
    assert get_spec("small").hub_repo == "Systran/faster-whisper-small"
    assert get_spec("tiny.en").english_only


def test_unknown_model_lists_available_names_and_pickles():
    with pytest.raises(UnknownModel) as caught:
        get_spec("large")
    assert "tiny.en" in str(caught.value) and "turbo" in str(caught.value)
    assert caught.value.status == 400 and caught.value.code == "unknown_model"
    again = pickle.loads(pickle.dumps(caught.value))
    assert str(again) == str(caught.value) and again.code == "unknown_model"


def test_served_list_narrows_the_catalog(tmp_path):
    with pytest.raises(UnknownModel, match="Available models: base, small"):
        resolve_model("tiny", tmp_path, served=["base", "small"])


def test_cache_hit_needs_no_other_source(tmp_path):
    fake_model(tmp_path / "small")
    assert resolve_model("small", tmp_path) == tmp_path / "small"


def test_missing_everywhere_is_unavailable_with_a_hint(tmp_path):
    with pytest.raises(ModelUnavailable, match="auralab models push small") as caught:
        resolve_model("small", tmp_path / "cache")
    assert caught.value.status == 503 and caught.value.retry_after > 0


def test_push_then_resolve_from_the_object_store(tmp_path):
    store = open_store("local", root=str(tmp_path / "store"))
    source = fake_model(tmp_path / "src" / "small", marker="w")
    keys = push_model(source, store)
    assert keys[-1] == "models/small/config.json"  # the completion marker goes last
    resolved = resolve_model("small", tmp_path / "cache", store=store)
    assert resolved == tmp_path / "cache" / "small"
    assert (resolved / "model.bin").read_bytes() == b"w" * 100
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name != "small"]  # no temp dirs left


def test_incomplete_store_upload_is_ignored(tmp_path):
    store = open_store("local", root=str(tmp_path / "store"))
    source = fake_model(tmp_path / "src")
    store.upload_file(source / "model.bin", "models/small/model.bin")  # config.json never arrived
    with pytest.raises(ModelUnavailable):
        resolve_model("small", tmp_path / "cache", store=store)


def test_push_rejects_a_directory_that_is_not_a_model(tmp_path):
    store = open_store("local", root=str(tmp_path / "store"))
    (tmp_path / "small").mkdir()
    with pytest.raises(ModelUnavailable, match=r"missing model\.bin"):
        push_model(tmp_path / "small", store)


def test_bundled_base_is_assembled_once(tmp_path):
    path = resolve_model("base", tmp_path)
    assert (path / "model.bin").stat().st_size == BUNDLED_BASE_BYTES
    assert {p.name for p in path.iterdir()} == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
    }
    mtime = (path / "model.bin").stat().st_mtime_ns
    assert resolve_model("base", tmp_path) == path
    assert (path / "model.bin").stat().st_mtime_ns == mtime


def test_store_wins_over_bundled_base(tmp_path):
    store = open_store("local", root=str(tmp_path / "store"))
    push_model(fake_model(tmp_path / "src" / "base", marker="s"), store)
    path = resolve_model("base", tmp_path / "cache", store=store)
    assert (path / "model.bin").read_bytes() == b"s" * 100
