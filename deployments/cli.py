"""``auralab``: the command line. Check a serve config, prepare or push model weights."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml

from deployments.config import AppArgs
from deployments.config_check import BUILDER


def check_config(path: Path) -> list[str]:
    """Problems in a serve config file, each naming the offending key; empty when valid."""
    from deployments.config_check import built_deployment_problems, serve_config_problems

    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        return [f"{path}: cannot read YAML: {exc}"]
    problems = serve_config_problems(raw, str(path))
    return problems or built_deployment_problems(raw, str(path))


def _store_from_config(path: Path, endpoint_url: str | None = None):  # type: ignore[no-untyped-def]
    """The object store a serve config names (``endpoint_url`` overrides it, e.g. a port-forward)."""
    from deployments.gateway import open_storage

    raw = yaml.safe_load(path.read_text())
    if raw.get("kind") == "RayService":  # k8s/rayservice.yaml: its serveConfigV2
        raw = yaml.safe_load(raw["spec"]["serveConfigV2"])
    app = next(a for a in raw["applications"] if a.get("import_path") == BUILDER)
    storage = AppArgs.model_validate(app.get("args") or {}).storage
    if endpoint_url:
        storage = storage.model_copy(update={"endpoint_url": endpoint_url})
    return open_storage(storage)


def _cmd_check(ns: argparse.Namespace) -> int:
    problems = check_config(Path(ns.config))
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print(f"{ns.config}: OK")
    return 1 if problems else 0


def _cmd_prepare(ns: argparse.Namespace) -> int:
    from models.weights import resolve_model

    path = resolve_model(ns.name, cache_dir=Path(ns.cache_dir).expanduser())
    print(f"model {ns.name}: {path}")
    return 0


def _cmd_push(ns: argparse.Namespace) -> int:
    from models.weights import push_model

    store = _store_from_config(Path(ns.config), ns.endpoint_url)
    keys = push_model(ns.source or ns.name, store, name=ns.name, cache_dir=Path(ns.cache_dir).expanduser())
    print(f"pushed {len(keys)} files of model {ns.name} to {store!r}")
    return 0


def _cmd_list(ns: argparse.Namespace) -> int:
    from models.catalog import CATALOG

    for name, spec in CATALOG.items():
        print(f"{name:12} {spec.parameters:>6}  {spec.hub_repo:48} {spec.description}")
    return 0


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="auralab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-config", help="validate a serve config (Ray's schema and our args)")
    check.add_argument("config", nargs="?", default="serve_config.yaml")
    check.set_defaults(func=_cmd_check)

    models = sub.add_parser("models", help="model weights").add_subparsers(dest="action", required=True)
    cache = {"default": "~/.cache/auralab/models", "help": "local weights cache"}
    prepare = models.add_parser("prepare", help="resolve a model into the local cache")
    prepare.add_argument("name")
    prepare.add_argument("--cache-dir", **cache)
    prepare.set_defaults(func=_cmd_prepare)
    push = models.add_parser("push", help="upload a model to the object store (models/<name>/)")
    push.add_argument("name")
    push.add_argument("--source", help="a local CTranslate2 model directory (default: resolve NAME)")
    push.add_argument(
        "--config", default="serve_config.yaml", help="serve config (or RayService) naming the store"
    )
    push.add_argument("--endpoint-url", help="S3 endpoint to use instead of the config's (a port-forward)")
    push.add_argument("--cache-dir", **cache)
    push.set_defaults(func=_cmd_push)
    lister = models.add_parser("list", help="the model catalog")
    lister.set_defaults(func=_cmd_list)

    ns = parser.parse_args(argv)
    return int(ns.func(ns))


if __name__ == "__main__":
    sys.exit(main())
