"""Offline validators for ``k8s/`` and the ``Dockerfile``.

Each validator returns a list of problems (empty when valid), each naming the file or object and the
offending field, so the tests can both assert that the shipped manifests are clean and that a
deliberately broken copy is reported by the very same function.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

Doc = dict[str, Any]

BUILDER = "deployments.app:build_app"
KUBERNETES_VERSION = "1.33"
# KubeRay appends 6 characters to a RayService name to name its RayCluster, whose own limit is 53
# (63 minus the "-serve-svc" suffix): ray-operator/controllers/ray/utils/constant.go.
MAX_RAYSERVICE_NAME = 47
UPGRADE_TYPES = {"NewCluster", "NewClusterWithIncrementalUpgrade", "None"}
DEPRECATED_RAYSERVICE_FIELDS = ("serviceUnhealthySecondThreshold", "deploymentUnhealthySecondThreshold")
KUBERAY_MANAGED_ENV = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
CORE_KINDS = {"Service", "StatefulSet", "Job", "Ingress", "Namespace", "Secret", "ConfigMap", "Deployment"}

# Ray Serve's own metrics the dashboard may query (name -> kind), besides ours. Each name is checked
# against the installed Ray's source by the tests, so a rename upstream shows up here.
RAY_SERVE_METRICS: dict[str, str] = {
    "serve_num_http_requests": "counter",
    "serve_num_http_error_requests": "counter",
    "serve_http_request_latency_ms": "histogram",
    "serve_deployment_replica_healthy": "gauge",
    "serve_deployment_queued_queries": "gauge",
}


# --------------------------------------------------------------------------------------- loading


def load_yaml_docs(path: Path) -> list[Doc]:
    """Every non-empty document of a YAML file."""
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def manifest_files(k8s_dir: Path) -> list[Path]:
    return sorted(k8s_dir.glob("*.yaml"))


def find(docs: Iterable[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d.get("kind") == kind]


def serve_config_of(rayservice: Doc) -> Doc:
    """``spec.serveConfigV2`` parsed (it is a YAML string inside the manifest)."""
    return yaml.safe_load(rayservice["spec"]["serveConfigV2"])


def _name(doc: Doc) -> str:
    return f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"


# ------------------------------------------------------------------------------ KubeRay CRD schema


def crd_schema(crd_path: Path, version: str = "v1") -> Doc:
    """The openAPIV3Schema of one version of a CRD, made strict like ``kubectl --validate=strict``.

    A structural CRD schema lists the known fields but does not forbid others (the API server prunes
    them silently), so ``additionalProperties: false`` is added to every object that lists
    properties and does not preserve unknown fields; ``x-kubernetes-*`` keys are dropped.
    """
    crd = yaml.safe_load(crd_path.read_text())
    matches = [v for v in crd["spec"]["versions"] if v["name"] == version]
    if not matches:
        raise ValueError(f"{crd_path}: no version {version!r}")
    return _strict(matches[0]["schema"]["openAPIV3Schema"])


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    out = {k: _strict(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    return out


def schema_problems(doc: Doc, schema: Doc, where: str) -> list[str]:
    """Every JSON-schema violation of ``doc``, with its path."""
    import jsonschema

    validator = jsonschema.Draft7Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(str(p) for p in error.absolute_path) or "(root)"
        problems.append(f"{where}: {path}: {error.message}")
    return problems


# ------------------------------------------------------------------------------- core Kubernetes


def core_problems(doc: Doc, where: str) -> list[str]:
    """Validate a core kind against the Kubernetes OpenAPI schemas shipped by kubernetes-validate
    (offline), in strict mode: unknown fields are errors."""
    import kubernetes_validate

    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path) or "(root)"
        return [f"{where}: {_name(doc)}: {path}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError as exc:
        return [f"{where}: {_name(doc)}: {exc.message}"]
    return []


# ---------------------------------------------------------------------------- KubeRay's own rules


def kuberay_problems(rs: Doc) -> list[str]:
    """Rules the KubeRay operator enforces beyond the CRD schema (ray-operator validation.go), plus
    the ones this project relies on (GPU group, token auth handled by KubeRay)."""
    where = _name(rs)
    spec = rs.get("spec") or {}
    cluster = spec.get("rayClusterConfig") or {}
    problems: list[str] = []
    name = (rs.get("metadata") or {}).get("name", "")
    if len(name) > MAX_RAYSERVICE_NAME:
        problems.append(f"{where}: metadata.name is {len(name)} characters, KubeRay allows {MAX_RAYSERVICE_NAME}")
    if not DNS1035_LABEL.match(name):
        problems.append(f"{where}: metadata.name {name!r} is not a DNS-1035 label")
    for field in DEPRECATED_RAYSERVICE_FIELDS:
        if field in spec:
            problems.append(f"{where}: spec.{field} is deprecated and ignored by KubeRay")
    upgrade = (spec.get("upgradeStrategy") or {}).get("type")
    if upgrade is not None and upgrade not in UPGRADE_TYPES:
        problems.append(f"{where}: spec.upgradeStrategy.type {upgrade!r} is not one of {sorted(UPGRADE_TYPES)}")
    head_svc = ((cluster.get("headGroupSpec") or {}).get("headService") or {}).get("metadata") or {}
    if head_svc.get("name"):
        problems.append(f"{where}: headGroupSpec.headService.metadata.name must not be set in a RayService")
    problems += _group_problems(where, cluster)
    problems += _auth_problems(where, cluster)
    return problems


def _groups(cluster: Doc) -> Iterator[tuple[str, Doc]]:
    yield "head", cluster.get("headGroupSpec") or {}
    for group in cluster.get("workerGroupSpecs") or []:
        yield str(group.get("groupName")), group


def _containers(group: Doc) -> list[Doc]:
    return ((group.get("template") or {}).get("spec") or {}).get("containers") or []


def _group_problems(where: str, cluster: Doc) -> list[str]:
    problems: list[str] = []
    names = [g.get("groupName") for g in cluster.get("workerGroupSpecs") or []]
    if len(set(names)) != len(names):
        problems.append(f"{where}: worker group names repeat: {names}")
    autoscaler_v2 = (cluster.get("autoscalerOptions") or {}).get("version") == "v2"
    for label, group in _groups(cluster):
        params = group.get("rayStartParams") or {}
        for key, value in params.items():
            if not isinstance(value, str):
                problems.append(f"{where}: group {label}: rayStartParams.{key} must be a string, got {value!r}")
        ray_resources = {"num-cpus", "num-gpus", "memory", "resources"} & set(params)
        if ray_resources and group.get("resources"):
            problems.append(f"{where}: group {label}: resources set both in rayStartParams and resources")
        if not _containers(group):
            problems.append(f"{where}: group {label}: the pod template has no container")
        if label == "head":
            continue
        if not DNS1123_LABEL.match(label) or len(label) > 63:
            problems.append(f"{where}: worker group name {label!r} is not a DNS-1123 label")
        low, high = group.get("minReplicas", 0), group.get("maxReplicas")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            problems.append(f"{where}: group {label}: minReplicas {low} > maxReplicas {high}")
        if "idleTimeoutSeconds" in group and not autoscaler_v2:
            problems.append(f"{where}: group {label}: idleTimeoutSeconds needs autoscalerOptions.version v2")
    return problems


def _auth_problems(where: str, cluster: Doc) -> list[str]:
    auth = cluster.get("authOptions") or {}
    if auth.get("mode") != "token":
        return []
    problems: list[str] = []
    version = str(cluster.get("rayVersion", ""))
    parts = tuple(int(p) for p in re.findall(r"\d+", version)[:3])
    if not parts or parts < (2, 52, 0):
        problems.append(f"{where}: authOptions.mode token needs rayVersion >= 2.52.0, got {version!r}")
    for label, group in _groups(cluster):
        for container in _containers(group):
            for env in container.get("env") or []:
                if env.get("name") in KUBERAY_MANAGED_ENV:
                    problems.append(
                        f"{where}: group {label}: container {container.get('name')} sets {env['name']}, "
                        "which KubeRay manages when authOptions.mode is token"
                    )
    return problems


# ------------------------------------------------------------------------------ Serve config


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
                AppArgs.model_validate(app.get("args") or {})
            except ValidationError as exc:
                problems += [f"{where}: applications[{i}].args.{_loc(e)}: {e['msg']}" for e in exc.errors()]
    return problems


def _loc(error: Mapping[str, Any]) -> str:
    return ".".join(str(p) for p in error.get("loc", ())) or "(root)"


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
                problems.append(f"application {name!r}: {field} differs: serve_config.yaml {x!r}, serveConfigV2 {y!r}")
    port_a = (local.get("http_options") or {}).get("port")
    port_b = (cluster.get("http_options") or {}).get("port")
    if port_a != port_b:
        problems.append(f"http_options.port differs: serve_config.yaml {port_a!r}, serveConfigV2 {port_b!r}")
    return problems


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
                    problems.append(f"deployment {name}: GPU deployment should scale to zero (min_replicas 0)")
                if not any(groups[g].get("minReplicas", 0) == 0 for g in fits):
                    problems.append(f"deployment {name}: no GPU group it fits can scale to zero")
    return problems


# --------------------------------------------------------------------------------- secret refs


def secret_keys(docs: Iterable[Doc]) -> dict[str, set[str]]:
    """Secret name -> keys, from the example Secrets (data and stringData)."""
    keys: dict[str, set[str]] = {}
    for doc in find(docs, "Secret"):
        name = doc["metadata"]["name"]
        keys.setdefault(name, set()).update((doc.get("data") or {}).keys(), (doc.get("stringData") or {}).keys())
    return keys


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def secret_ref_problems(docs: Iterable[Doc], secrets: Mapping[str, set[str]]) -> list[str]:
    """Every secretKeyRef, envFrom secretRef and RayService authOptions.secretName a manifest uses
    must exist in the example Secrets (optional refs too: the example documents every key)."""
    problems: list[str] = []
    for doc in docs:
        if doc.get("kind") == "Secret":
            continue
        where = _name(doc)
        for path, node in _walk(doc):
            if not isinstance(node, dict):
                continue
            ref = node.get("secretKeyRef")
            if isinstance(ref, dict):
                name, key = ref.get("name"), ref.get("key")
                if name not in secrets:
                    problems.append(f"{where}: {path}: Secret {name!r} is not in secrets.example.yaml")
                elif key not in secrets[name]:
                    problems.append(f"{where}: {path}: Secret {name!r} has no key {key!r}")
            env_from = node.get("secretRef")
            if path.endswith("]") and isinstance(env_from, dict) and env_from.get("name") not in secrets:
                problems.append(f"{where}: {path}: Secret {env_from.get('name')!r} is not in secrets.example.yaml")
        auth = (((doc.get("spec") or {}).get("rayClusterConfig") or {}).get("authOptions")) or {}
        if auth.get("secretName"):
            name = auth["secretName"]
            if "auth_token" not in secrets.get(name, set()):
                problems.append(f"{where}: authOptions.secretName {name!r}: no Secret with key 'auth_token'")
    return problems


def placeholder_problems(docs: Iterable[Doc]) -> list[str]:
    """The example Secrets must carry placeholders only, never something that looks real."""
    problems = []
    for doc in find(docs, "Secret"):
        if doc.get("data"):
            problems.append(f"{_name(doc)}: use stringData with visible placeholders, not data")
        for key, value in (doc.get("stringData") or {}).items():
            if "CHANGE-ME" not in str(value):
                problems.append(f"{_name(doc)}: {key} is not an obvious placeholder (CHANGE-ME)")
    return problems


# ----------------------------------------------------------------------------- dashboard metrics

_PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or",
    "unless", "inf", "nan", "e",
}  # fmt: skip


def promql_metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers that are not functions, keywords, label
    names (inside braces or by/without lists), durations or numbers."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors and subqueries
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w$.])([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?", text):
        word, is_call = match.group(1), match.group(2)
        if is_call or word.lower() in _PROMQL_WORDS:
            continue
        names.add(word)
    return names


def dashboard_exprs(dashboard: Doc) -> list[tuple[str, str]]:
    """(panel title, expr) of every query in a Grafana dashboard, rows' nested panels included."""
    found = []

    def visit(panels: list[Doc]) -> None:
        for panel in panels:
            for target in panel.get("targets") or []:
                if target.get("expr"):
                    found.append((str(panel.get("title")), target["expr"]))
            visit(panel.get("panels") or [])

    visit(dashboard.get("panels") or [])
    return found


def exported_series(name: str, kind: str) -> set[str]:
    """Prometheus series of one Ray metric: ``ray_`` prefix; a counter gets ``_total`` once (Ray
    also exports a deprecated suffix-less gauge for counters; dashboards must not use it); a
    histogram appears as ``_bucket``, ``_sum`` and ``_count``."""
    base = f"ray_{name}"
    if kind == "counter":
        return {base if base.endswith("_total") else f"{base}_total"}
    if kind == "histogram":
        return {f"{base}_bucket", f"{base}_sum", f"{base}_count"}
    return {base}


def dashboard_problems(dashboard: Doc, emitted: Mapping[str, str], builtin: Mapping[str, str]) -> list[str]:
    """Every metric a panel queries must be one we emit (``emitted``: name -> kind) or one of Ray
    Serve's (``builtin``), under its exported Prometheus name."""
    allowed: dict[str, str] = {}
    for source in (emitted, builtin):
        for name, kind in source.items():
            for series in exported_series(name, kind):
                allowed[series] = name
    problems = []
    for title, expr in dashboard_exprs(dashboard):
        for metric in sorted(promql_metric_names(expr)):
            if metric not in allowed:
                problems.append(f"panel {title!r}: queries {metric!r}, which nothing emits")
    return problems


def dashboard_coverage_problems(dashboard: Doc, emitted: Mapping[str, str]) -> list[str]:
    """Every metric we emit has at least one panel."""
    used = set().union(*(promql_metric_names(e) for _, e in dashboard_exprs(dashboard)))
    return [
        f"metric {name!r} ({kind}) has no panel"
        for name, kind in emitted.items()
        if not exported_series(name, kind) & used
    ]


def emitted_metrics(module: Any) -> dict[str, str]:
    """name -> kind from ``deployments.metrics``: ``METRICS`` (name -> (kind, tags)) when present,
    else ``METRIC_NAMES`` with kinds unknown (any exported form accepted)."""
    metrics = getattr(module, "METRICS", None)
    if isinstance(metrics, Mapping):
        return {name: (spec[0] if isinstance(spec, tuple | list) else str(spec)) for name, spec in metrics.items()}
    return {name: kind for name in module.METRIC_NAMES for kind in ("counter", "histogram", "gauge")}


# ---------------------------------------------------------------------------------- cross checks


def ingress_problems(ingress: Doc, rs: Doc, cfg: Doc) -> list[str]:
    """The Ingress reaches the KubeRay-managed serve Service on the Serve port, accepts uploads as
    large as the app does, waits as long as Serve does, and terminates TLS."""
    where = _name(ingress)
    problems: list[str] = []
    serve_svc = rs["spec"].get("serveService") or {}
    svc_name = (serve_svc.get("metadata") or {}).get("name") or f"{rs['metadata']['name']}-serve-svc"
    port = (cfg.get("http_options") or {}).get("port")
    svc_ports = {p.get("port") for p in (serve_svc.get("spec") or {}).get("ports") or []}
    if serve_svc and port not in svc_ports:
        problems.append(f"{_name(rs)}: serveService exposes {sorted(svc_ports)}, Serve listens on {port}")
    spec = ingress.get("spec") or {}
    for rule in spec.get("rules") or []:
        for path in (rule.get("http") or {}).get("paths") or []:
            backend = (path.get("backend") or {}).get("service") or {}
            if backend.get("name") != svc_name:
                problems.append(f"{where}: backend {backend.get('name')!r} is not the serve Service {svc_name!r}")
            if (backend.get("port") or {}).get("number") != port:
                problems.append(f"{where}: backend port {backend.get('port')} is not the Serve port {port}")
    if not spec.get("tls"):
        problems.append(f"{where}: no tls section (TLS terminates at the Ingress)")
    notes = (ingress.get("metadata") or {}).get("annotations") or {}
    body = notes.get("nginx.ingress.kubernetes.io/proxy-body-size")
    limit = _app_args(cfg).get("limits", {}).get("max_upload_mb", 100)
    if body is None or _megabytes(body) < float(limit):
        problems.append(f"{where}: proxy-body-size {body!r} is below limits.max_upload_mb {limit}")
    timeout = notes.get("nginx.ingress.kubernetes.io/proxy-read-timeout")
    serve_timeout = (cfg.get("http_options") or {}).get("request_timeout_s")
    if serve_timeout and (timeout is None or float(timeout) < float(serve_timeout)):
        problems.append(f"{where}: proxy-read-timeout {timeout!r} is below request_timeout_s {serve_timeout}")
    return problems


def _megabytes(size: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmMgG]?)", str(size).strip())
    if not match:
        return 0.0
    number, unit = float(match.group(1)), match.group(2).lower()
    return number * {"k": 1 / 1024, "m": 1, "g": 1024, "": 1 / (1024 * 1024)}[unit]


def _app_args(cfg: Doc) -> Doc:
    for app in cfg.get("applications") or []:
        if app.get("import_path") == BUILDER:
            return app.get("args") or {}
    return {}


def storage_endpoint_problems(cfg: Doc, docs: Iterable[Doc], namespace: str) -> list[str]:
    """storage.endpoint_url names the MinIO Service of these manifests, in the kustomize namespace,
    on a port that Service exposes."""
    storage = _app_args(cfg).get("storage") or {}
    if storage.get("backend") != "s3":
        return ["serveConfigV2: the cluster must use storage.backend s3"]
    url = storage.get("endpoint_url") or ""
    match = re.fullmatch(r"https?://([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)/?", url)
    if not match:
        return [f"serveConfigV2: storage.endpoint_url {url!r} is not http://<service>.<ns>.svc.cluster.local:<port>"]
    svc, ns, port = match.group(1), match.group(2), int(match.group(3))
    problems = []
    if ns != namespace:
        problems.append(f"serveConfigV2: storage.endpoint_url namespace {ns!r} is not the kustomize namespace {namespace!r}")
    services = {d["metadata"]["name"]: d for d in find(docs, "Service")}
    if svc not in services:
        problems.append(f"serveConfigV2: storage.endpoint_url service {svc!r} is not defined in k8s/")
    elif port not in {p.get("port") for p in services[svc]["spec"].get("ports") or []}:
        problems.append(f"serveConfigV2: Service {svc!r} does not expose port {port}")
    return problems


def image_problems(docs: Iterable[Doc], kustomization: Doc) -> list[str]:
    """Images are pinned (no :latest, no bare names), and the Ray image is the one kustomize sets."""
    problems = []
    managed = {i.get("name") for i in kustomization.get("images") or []}
    for doc in docs:
        for path, node in _walk(doc):
            if not (isinstance(node, dict) and "image" in node and "name" in node):
                continue
            image = str(node["image"])
            tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
            if not tag or tag == "latest":
                problems.append(f"{_name(doc)}: {path}: image {image!r} is not pinned to a tag")
            if doc.get("kind") == "RayService" and image.rsplit(":", 1)[0] not in managed:
                problems.append(f"{_name(doc)}: {path}: Ray image {image!r} is not listed in kustomization images")
    return problems


def kustomization_problems(k8s_dir: Path, kustomization: Doc) -> list[str]:
    """Every listed file exists, every manifest except the Secret example is listed."""
    listed = list(kustomization.get("resources") or [])
    generated = [f for g in kustomization.get("configMapGenerator") or [] for f in g.get("files") or []]
    problems = [f"kustomization.yaml: {f} does not exist" for f in listed + generated if not (k8s_dir / f).is_file()]
    for path in manifest_files(k8s_dir):
        if path.name in {"kustomization.yaml", "secrets.example.yaml"}:
            continue
        if path.name not in listed:
            problems.append(f"kustomization.yaml: {path.name} is not in resources")
    if "secrets.example.yaml" in listed:
        problems.append("kustomization.yaml: secrets.example.yaml must not be applied (placeholders)")
    return problems


# ------------------------------------------------------------------------------------ Dockerfile


def dockerfile_problems(text: str, ray_version: str, python: str, cache_dir: str | None) -> list[str]:
    """Base image ``rayproject/ray:<ray>-py<XY>-gpu``, ffmpeg, install from pyproject, non-root, the
    base model baked where the cluster config looks for it."""
    lines = _dockerfile_instructions(text)
    problems: list[str] = []
    froms = [args for op, args in lines if op == "FROM"]
    expected = f"rayproject/ray:{ray_version}-py{python.replace('.', '')}-gpu"
    if len(froms) != 1 or froms[0].split()[0] != expected:
        problems.append(f"Dockerfile: FROM {froms} is not {expected!r}")
    runs = " ".join(args for op, args in lines if op == "RUN")
    copies = " ".join(args for op, args in lines if op == "COPY")
    if "ffmpeg" not in runs:
        problems.append("Dockerfile: ffmpeg is not installed")
    if "pyproject.toml" not in copies:
        problems.append("Dockerfile: pyproject.toml is not copied")
    if not re.search(r"pip install (--\S+ )*\.(\s|$)", runs):
        problems.append("Dockerfile: the project is not installed with `pip install .`")
    if re.search(r"pip install [^&]*-r\s", runs):
        problems.append("Dockerfile: installs from a requirements file; pyproject.toml is the only source")
    users = [args.strip() for op, args in lines if op == "USER"]
    if not users or users[-1] in {"root", "0"}:
        problems.append(f"Dockerfile: the final USER is {users[-1] if users else 'unset'}, not the image's non-root user")
    prepare = re.search(r"auralab models prepare base --cache-dir (\S+)", runs)
    if not prepare:
        problems.append("Dockerfile: the base model is not baked (auralab models prepare base --cache-dir ...)")
    elif cache_dir is not None and prepare.group(1) != cache_dir:
        problems.append(f"Dockerfile: model baked into {prepare.group(1)}, the cluster config reads {cache_dir}")
    return problems


def _dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        op, _, args = line.partition(" ")
        out.append((op.upper(), args.strip()))
    return out
