"""Validators for the Serve config inside the RayService: Ray's schema, our args, drift against
serve_config.yaml, the deployments the builder binds, and where replicas can be placed."""

from __future__ import annotations

from typing import Any

from deployments.config_check import (  # noqa: F401  (re-exported for the tests)
    built_deployment_problems,
    serve_config_problems,
    unknown_key_problems,
)
from tests.k8s.validate import Doc, _containers

# ------------------------------------------------------------------------------ Serve config


def _app_shape(cfg: Doc) -> dict[str, tuple[Any, Any, list[str]]]:
    return {
        app.get("name"): (
            app.get("import_path"),
            app.get("route_prefix"),
            sorted(d.get("name") for d in app.get("deployments") or []),
        )
        for app in cfg.get("applications") or []
    }


def drift_problems(local: Doc, cluster: Doc) -> list[str]:
    """The cluster config must serve the same applications, import paths, route prefixes and
    deployment names as serve_config.yaml; only resources, scaling and args values may differ."""
    a, b = _app_shape(local), _app_shape(cluster)
    problems: list[str] = []
    for name in sorted(set(a) | set(b), key=str):
        if name not in b:
            problems.append(f"application {name!r} is in serve_config.yaml but not in serveConfigV2")
            continue
        if name not in a:
            problems.append(f"application {name!r} is in serveConfigV2 but not in serve_config.yaml")
            continue
        for field, x, y in zip(("import_path", "route_prefix", "deployments"), a[name], b[name], strict=True):
            if x != y:
                problems.append(
                    f"application {name!r}: {field} differs: serve_config.yaml {x!r}, serveConfigV2 {y!r}"
                )
    port_a = (local.get("http_options") or {}).get("port")
    port_b = (cluster.get("http_options") or {}).get("port")
    if port_a != port_b:
        problems.append(f"http_options.port differs: serve_config.yaml {port_a!r}, serveConfigV2 {port_b!r}")
    return problems


# ------------------------------------------------------------------- placement of Serve replicas


def _quantity(value: Any) -> float:
    text = str(value)
    if text.endswith("m"):
        return float(text[:-1]) / 1000
    return float(text)


def _group_capacity(group: Doc) -> tuple[float, float, dict[str, str]]:
    """CPUs, GPUs and Ray node labels a worker pod of this group offers."""
    params = group.get("rayStartParams") or {}
    limits = ((_containers(group) or [{}])[0].get("resources") or {}).get("limits") or {}
    cpus = _quantity(params.get("num-cpus", limits.get("cpu", 0)))
    gpus = _quantity(params.get("num-gpus", limits.get("nvidia.com/gpu", 0)))
    return cpus, gpus, {str(k): str(v) for k, v in (group.get("labels") or {}).items()}


def placement_problems(rs: Doc, cfg: Doc) -> list[str]:
    """Every deployment's replica fits a pod of some worker group (CPUs, GPUs, label selector), and
    GPU deployments can scale to zero onto a group that can too."""
    cluster = rs["spec"]["rayClusterConfig"]
    groups = {str(g.get("groupName")): g for g in cluster.get("workerGroupSpecs") or []}
    capacity = {name: _group_capacity(g) for name, g in groups.items()}
    problems: list[str] = []
    for app in cfg.get("applications") or []:
        for dep in app.get("deployments") or []:
            name = dep.get("name")
            opts = dep.get("ray_actor_options") or {}
            cpus, gpus = float(opts.get("num_cpus", 1)), float(opts.get("num_gpus", 0))
            selector = {str(k): str(v) for k, v in (opts.get("label_selector") or {}).items()}
            fits = [
                g
                for g, (gc, gg, labels) in capacity.items()
                if cpus <= gc and gpus <= gg and all(labels.get(k) == v for k, v in selector.items())
            ]
            if not fits:
                problems.append(
                    f"deployment {name}: no worker group fits num_cpus={cpus}, num_gpus={gpus}, "
                    f"label_selector={selector}"
                )
                continue
            if gpus > 0:
                auto = dep.get("autoscaling_config") or {}
                if auto.get("min_replicas") != 0:
                    problems.append(f"deployment {name}: a GPU deployment should have min_replicas 0")
                if not any(groups[g].get("minReplicas", 0) == 0 for g in fits):
                    problems.append(f"deployment {name}: no GPU group it fits can scale to zero")
    return problems


def env_drift_problems(rs: Doc) -> list[str]:
    """All worker groups host Serve replicas, so they need the same environment (names and sources)."""
    groups = rs["spec"]["rayClusterConfig"].get("workerGroupSpecs") or []
    envs = {
        str(g.get("groupName")): [
            (e.get("name"), e.get("value"), e.get("valueFrom")) for e in c.get("env") or []
        ]
        for g in groups
        for c in _containers(g)[:1]
    }
    if not envs:
        return []
    first_name, first = next(iter(envs.items()))
    return [
        f"worker group {name}: env differs from group {first_name}: "
        f"{sorted({e[0] for e in env} ^ {e[0] for e in first}) or 'same names, other values'}"
        for name, env in envs.items()
        if env != first
    ]


def shutdown_problems(rs: Doc, cfg: Doc) -> list[str]:
    """A worker pod must outlive the longest graceful shutdown of the replicas it may host."""
    longest = max(
        (
            float(d.get("graceful_shutdown_timeout_s", 20))
            for a in cfg.get("applications") or []
            for d in a.get("deployments") or []
        ),
        default=20.0,
    )
    problems = []
    for group in rs["spec"]["rayClusterConfig"].get("workerGroupSpecs") or []:
        grace = ((group.get("template") or {}).get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        if grace < longest:
            problems.append(
                f"worker group {group.get('groupName')}: terminationGracePeriodSeconds {grace} is below"
                f" the longest graceful_shutdown_timeout_s {longest:g}"
            )
    return problems
