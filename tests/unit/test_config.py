"""Config validation: a typo fails at deploy time with a message naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from deployments.cli import check_config, main
from deployments.config import AppArgs

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, args: dict, deployments: list | None = None) -> Path:
    app = {"name": "auralab", "import_path": "deployments.app:build_app", "args": args}
    if deployments is not None:
        app["deployments"] = deployments
    path = tmp_path / "serve_config.yaml"
    path.write_text(yaml.safe_dump({"applications": [app]}))
    return path


def test_the_shipped_config_is_valid():
    assert check_config(ROOT / "serve_config.yaml") == []


def test_unknown_arg_key_is_named(tmp_path):
    problems = check_config(write(tmp_path, {"runner": {"max_atempts": 2}}))
    assert any("args.runner.max_atempts" in p and "Extra inputs" in p for p in problems)


def test_unknown_ray_key_is_named(tmp_path):
    path = write(tmp_path, {}, [{"name": "Gateway", "max_queued_request": 5}])
    assert any("max_queued_request: unknown key" in p for p in check_config(path))


def test_batches_must_be_able_to_fill(tmp_path):
    path = write(
        tmp_path,
        {"models": {"served": [{"model": "base", "max_batch_size": 16}]}},
        [{"name": "Transcriber-base", "max_ongoing_requests": 4}],
    )
    assert any("max_ongoing_requests 4 < max_batch_size 16" in p for p in check_config(path))


def test_cli_exit_code_and_message(tmp_path, capsys):
    assert main(["check-config", str(write(tmp_path, {"storage": {"roott": "x"}}))]) == 1
    assert "args.storage.roott" in capsys.readouterr().err
    assert main(["check-config", str(ROOT / "serve_config.yaml")]) == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"models": {"served": [{"model": "base"}], "default": "small"}}, "not in models.served"),
        ({"runner": {"lease_timeout_s": 5, "heartbeat_interval_s": 5}}, "heartbeat_interval_s"),
        ({"models": {"served": [{"model": "base"}, {"model": "base"}]}}, "twice"),
        ({"storage": {"backend": "gcs"}}, "storage.backend"),
        ({"security": {"require_api_key": True, "cors_origins": ["*"]}}, "cors_origins"),
    ],
)
def test_inconsistent_args_are_refused(args, fragment):
    with pytest.raises(ValidationError) as info:
        AppArgs.model_validate(args)
    assert fragment in str(info.value)


def test_relative_local_root_is_pinned_where_the_app_is_built(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert AppArgs.model_validate({"storage": {"root": "data"}}).storage.root == str(tmp_path / "data")


def test_the_local_config_fits_on_two_cores():
    """`make run` must start on a 2-core machine: logical CPUs of all replicas stay below 2."""
    config = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
    deployments = config["applications"][0]["deployments"]
    total = sum(d.get("num_replicas", 1) * d["ray_actor_options"]["num_cpus"] for d in deployments)
    assert total <= 1.5, total
    assert all(d["ray_actor_options"].get("num_gpus", 0) == 0 for d in deployments)


@pytest.mark.parametrize(("online", "expected"), [(False, "1"), (True, "0")])
def test_model_replicas_set_the_hub_mode_from_config(monkeypatch, online, expected):
    monkeypatch.setenv("HF_HUB_OFFLINE", "unset")
    AppArgs.model_validate({"models": {"hub_online": online}}).models.apply_hub_mode()
    import os

    assert os.environ["HF_HUB_OFFLINE"] == expected
