"""Checks of a Serve config file before it is deployed: Ray's schema (which silently ignores unknown
keys, so they are checked here), autoscaling configs, our args, and that every configured
deployment is one the builder binds. ``auralab check-config`` and the k8s tests share them."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

BUILDER = "deployments.app:build_app"
Doc = dict[str, Any]


def _model_types(annotation: Any) -> list[type]:
    """Pydantic model classes inside an annotation (Optional, Union, list[...], dict[..., ...])."""
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type] = []
    for arg in typing.get_args(annotation):
        found += _model_types(arg)
    return found


def unknown_key_problems(model: type, data: Any, where: str) -> list[str]:
    """Keys a pydantic model does not declare, recursively. Ray's serve schemas ignore unknown keys,
    so a typo such as ``max_queued_request`` would otherwise deploy silently with the default."""
    if not isinstance(data, dict):
        return []
    fields = model.model_fields  # type: ignore[attr-defined]
    known = set(fields) | {f.alias for f in fields.values() if f.alias}
    problems = [f"{where}.{key}: unknown key" for key in data if key not in known]
    for key, value in data.items():
        if key not in fields:
            continue
        targets = _model_types(fields[key].annotation)
        if not targets:
            continue
        is_list = isinstance(value, list)
        for i, item in enumerate(value if is_list else [value]):
            sub = f"{where}.{key}[{i}]" if is_list else f"{where}.{key}"
            problems += unknown_key_problems(targets[0], item, sub)
    return problems


def serve_config_problems(cfg: Any, where: str) -> list[str]:
    """A Serve config dict: Ray's ``ServeDeploySchema``, no unknown keys, autoscaling configs valid,
    and the args of our application valid for :class:`deployments.config.AppArgs`."""
    from pydantic import ValidationError
    from ray.serve.config import AutoscalingConfig
    from ray.serve.schema import ServeDeploySchema

    from deployments.config import AppArgs

    if not isinstance(cfg, dict):
        return [f"{where}: not a mapping"]
    problems: list[str] = []
    try:
        ServeDeploySchema.model_validate(cfg)
    except ValidationError as exc:
        problems += [f"{where}: {_loc(e)}: {e['msg']}" for e in exc.errors()]
    problems += unknown_key_problems(ServeDeploySchema, cfg, where)
    for i, app in enumerate(cfg.get("applications") or []):
        for j, dep in enumerate(app.get("deployments") or []):
            auto = dep.get("autoscaling_config")
            if isinstance(auto, dict):
                try:
                    AutoscalingConfig.model_validate(auto)
                except ValidationError as exc:
                    loc = f"applications[{i}].deployments[{j}].autoscaling_config"
                    problems += [f"{where}: {loc}.{_loc(e)}: {e['msg']}" for e in exc.errors()]
        if app.get("import_path") == BUILDER:
            try:
                args = AppArgs.model_validate(app.get("args") or {})
            except ValidationError as exc:
                problems += [f"{where}: applications[{i}].args.{_loc(e)}: {e['msg']}" for e in exc.errors()]
            else:
                problems += batching_problems(args, app, f"{where}: applications[{i}]")
    return problems


def batching_problems(args: Any, app: Doc, where: str) -> list[str]:
    """``@serve.batch`` never fills a batch larger than the replica's ``max_ongoing_requests``."""
    from deployments.transcriber import DEFAULT_MAX_ONGOING, deployment_name

    configured = {d.get("name"): d for d in app.get("deployments") or []}
    problems = []
    for model in args.models.served:
        name = deployment_name(model.model)
        ongoing = (configured.get(name) or {}).get("max_ongoing_requests", DEFAULT_MAX_ONGOING)
        if ongoing < model.max_batch_size:
            problems.append(
                f"{where}: deployment {name!r} has max_ongoing_requests {ongoing} < max_batch_size "
                f"{model.max_batch_size}: batches could never fill"
            )
    return problems


def _loc(error: Mapping[str, Any]) -> str:
    return ".".join(str(p) for p in error.get("loc", ())) or "(root)"


def built_deployment_problems(cfg: Doc, where: str) -> list[str]:
    """Deployments a config names must be ones the builder binds for those args (Serve refuses a
    config for a deployment the application does not have)."""
    from ray.serve._private.build_app import build_app as serve_build  # what `serve build` uses

    from deployments.app import build_app
    from deployments.config import AppArgs

    problems: list[str] = []
    for app in cfg.get("applications") or []:
        if app.get("import_path") != BUILDER:
            continue
        built = serve_build(build_app(AppArgs.model_validate(app.get("args") or {})), name=app.get("name"))
        bound = {d.name for d in built.deployments}
        for dep in app.get("deployments") or []:
            if dep.get("name") not in bound:
                problems.append(
                    f"{where}: application {app.get('name')!r} configures deployment {dep.get('name')!r}, "
                    f"which the builder does not bind (it binds {sorted(bound)})"
                )
    return problems
