"""Offline validators for ``k8s/`` and the ``Dockerfile``.

Each validator returns a list of problems (empty when valid), each naming the file or object and the
offending field, so the tests can both assert that the shipped manifests are clean and that a
deliberately broken copy is reported by the very same function.
"""

from __future__ import annotations

import re
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
        problems.append(f"{where}: metadata.name has {len(name)} characters, max {MAX_RAYSERVICE_NAME}")
    if not DNS1035_LABEL.match(name):
        problems.append(f"{where}: metadata.name {name!r} is not a DNS-1035 label")
    for field in DEPRECATED_RAYSERVICE_FIELDS:
        if field in spec:
            problems.append(f"{where}: spec.{field} is deprecated and ignored by KubeRay")
    upgrade = (spec.get("upgradeStrategy") or {}).get("type")
    if upgrade is not None and upgrade not in UPGRADE_TYPES:
        problems.append(f"{where}: spec.upgradeStrategy.type {upgrade!r} not in {sorted(UPGRADE_TYPES)}")
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
                problems.append(f"{where}: group {label}: rayStartParams.{key} is not a string: {value!r}")
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


# --------------------------------------------------------------------------------- secret refs


def secret_keys(docs: Iterable[Doc]) -> dict[str, set[str]]:
    """Secret name -> keys, from the example Secrets (data and stringData)."""
    keys: dict[str, set[str]] = {}
    for doc in find(docs, "Secret"):
        name = doc["metadata"]["name"]
        keys.setdefault(name, set()).update(doc.get("data") or {}, doc.get("stringData") or {})
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
                problems.append(f"{where}: {path}: Secret {env_from.get('name')!r} is not in the example")
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
                problems.append(f"{where}: backend {backend.get('name')!r} is not the Service {svc_name!r}")
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
        return [
            f"serveConfigV2: storage.endpoint_url {url!r} is not http://<service>.<ns>.svc.cluster.local:<port>"
        ]
    svc, ns, port = match.group(1), match.group(2), int(match.group(3))
    problems = []
    if ns != namespace:
        problems.append(f"serveConfigV2: storage.endpoint_url namespace {ns!r} is not {namespace!r}")
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
                problems.append(f"{_name(doc)}: {path}: Ray image {image!r} is not in kustomization images")
    return problems


def kustomization_problems(k8s_dir: Path, kustomization: Doc) -> list[str]:
    """Every listed file exists, every manifest except the Secret example is listed."""
    listed = list(kustomization.get("resources") or [])
    generated = [f for g in kustomization.get("configMapGenerator") or [] for f in g.get("files") or []]
    missing = [f for f in listed + generated if not (k8s_dir / f).is_file()]
    problems = [f"kustomization.yaml: {f} does not exist" for f in missing]
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
        problems.append(f"Dockerfile: the final USER is {users[-1] if users else 'unset'}, not non-root")
    prepare = re.search(r"auralab models prepare base --cache-dir (\S+)", runs)
    if not prepare:
        problems.append("Dockerfile: the base model is not baked (auralab models prepare base --cache-dir)")
    elif cache_dir is not None and prepare.group(1) != cache_dir:
        problems.append(f"Dockerfile: model baked into {prepare.group(1)}, the cluster reads {cache_dir}")
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
