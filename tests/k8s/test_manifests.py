"""Offline validation of ``k8s/`` and the ``Dockerfile``: schemas, KubeRay's rules, the Serve config
inside the RayService, drift against serve_config.yaml, secrets, metrics and the image.

The second half feeds deliberately broken copies to the same validators and asserts each one is
reported, so none of these checks can pass vacuously.
"""

from __future__ import annotations

import copy
import importlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.k8s import validate as v
from tests.k8s import validate_metrics as vm
from tests.k8s import validate_serve as vs

pytestmark = pytest.mark.k8s

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
CRD = ROOT.parent / "shared" / "schemas" / "kuberay" / "ray.io_rayservices.yaml"
PYTHON = "3.11"

# The names the brief fixes, used to exercise the dashboard validator even before
# deployments.metrics exists (the real check reads deployments.metrics).
FALLBACK_METRICS = {
    "auralab_audio_seconds_processed": "counter",
    "auralab_realtime_factor": "histogram",
    "auralab_batch_size": "histogram",
    "auralab_queue_depth": "gauge",
    "auralab_tasks": "counter",
    "auralab_task_latency_seconds": "histogram",
    "auralab_vivo_upstream_latency_seconds": "histogram",
    "auralab_vivo_errors": "counter",
}


# ------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def docs_by_file() -> dict[str, list[dict[str, Any]]]:
    return {p.name: v.load_yaml_docs(p) for p in v.manifest_files(K8S) if p.name != "kustomization.yaml"}


@pytest.fixture(scope="module")
def all_docs(docs_by_file) -> list[dict[str, Any]]:
    return [d for docs in docs_by_file.values() for d in docs]


@pytest.fixture(scope="module")
def rayservice(docs_by_file) -> dict[str, Any]:
    (rs,) = v.find(docs_by_file["rayservice.yaml"], "RayService")
    return rs


@pytest.fixture(scope="module")
def serve_cfg(rayservice) -> dict[str, Any]:
    return v.serve_config_of(rayservice)


@pytest.fixture(scope="module")
def kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


@pytest.fixture(scope="module")
def secrets(docs_by_file) -> dict[str, set[str]]:
    return v.secret_keys(docs_by_file["secrets.example.yaml"])


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads((K8S / "grafana-dashboard.json").read_text())


@pytest.fixture(scope="module")
def crd() -> dict[str, Any]:
    if not CRD.is_file():
        pytest.skip(f"KubeRay CRD schema not found: {CRD} (shared/schemas/kuberay beside the project)")
    return v.crd_schema(CRD)


@pytest.fixture(scope="module")
def emitted() -> dict[str, str]:
    try:
        module = importlib.import_module("deployments.metrics")
    except ImportError as exc:
        pytest.skip(f"deployments.metrics (METRIC_NAMES) is not importable yet: {exc}")
    return vm.emitted_metrics(module)


@pytest.fixture(scope="module")
def local_cfg() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "serve_config.yaml").read_text())


def _core_docs() -> list[tuple[str, int]]:
    out = []
    for path in v.manifest_files(K8S):
        for i, doc in enumerate(v.load_yaml_docs(path)):
            if doc.get("kind") in v.CORE_KINDS:
                out.append((path.name, i))
    return out


# ------------------------------------------------------------------------------- the manifests


@pytest.mark.parametrize("path", v.manifest_files(K8S), ids=lambda p: p.name)
def test_every_manifest_parses(path: Path) -> None:
    docs = v.load_yaml_docs(path)
    assert docs, f"{path.name} has no document"
    if path.name == "kustomization.yaml":
        return
    for doc in docs:
        assert doc.get("apiVersion") and doc.get("kind") and doc.get("metadata", {}).get("name"), doc


def test_rayservice_validates_against_kuberay_crd(rayservice, crd) -> None:
    assert v.schema_problems(rayservice, crd, "rayservice.yaml") == []


def test_rayservice_follows_kuberay_rules(rayservice) -> None:
    assert v.kuberay_problems(rayservice) == []


@pytest.mark.parametrize(("file", "index"), _core_docs(), ids=lambda x: str(x))
def test_core_kinds_validate_against_kubernetes_schemas(file: str, index: int) -> None:
    pytest.importorskip(
        "kubernetes_validate", reason="kubernetes-validate is not installed (pip install -e '.[dev]')"
    )
    doc = v.load_yaml_docs(K8S / file)[index]
    assert v.core_problems(doc, file) == []


def test_serve_service_template_is_a_valid_service(rayservice) -> None:
    pytest.importorskip(
        "kubernetes_validate", reason="kubernetes-validate is not installed (pip install -e '.[dev]')"
    )
    template = copy.deepcopy(rayservice["spec"]["serveService"])
    service = {"apiVersion": "v1", "kind": "Service", **template}
    assert v.core_problems(service, "rayservice.yaml serveService") == []


def test_worker_groups_cpu_and_gpu(rayservice) -> None:
    groups = {g["groupName"]: g for g in rayservice["spec"]["rayClusterConfig"]["workerGroupSpecs"]}
    gpu_limits = groups["gpu"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert gpu_limits["nvidia.com/gpu"] == "1"
    assert groups["gpu"]["minReplicas"] == 0
    assert "nvidia.com/gpu" not in groups["cpu"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    head = rayservice["spec"]["rayClusterConfig"]["headGroupSpec"]
    assert head["rayStartParams"]["num-cpus"] == "0"
    assert rayservice["spec"]["rayClusterConfig"]["enableInTreeAutoscaling"] is True


def test_worker_groups_share_one_environment(rayservice) -> None:
    assert vs.env_drift_problems(rayservice) == []


def test_podmonitor_scrapes_the_metrics_port_of_every_ray_container(docs_by_file, rayservice) -> None:
    (monitor,) = v.find(docs_by_file["podmonitor.yaml"], "PodMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["spec"]["selector"]["matchLabels"] == {"ray.io/is-ray-node": "yes"}
    port_names = {e["port"] for e in monitor["spec"]["podMetricsEndpoints"]}
    for label, group in v._groups(rayservice["spec"]["rayClusterConfig"]):
        ports = {p["name"]: p["containerPort"] for p in group["template"]["spec"]["containers"][0]["ports"]}
        assert {n: ports.get(n) for n in port_names} == {"metrics": 8080}, label


def test_kustomization_lists_every_manifest(kustomization) -> None:
    assert kustomization["namespace"] == "auralab"
    assert v.kustomization_problems(K8S, kustomization) == []


def test_images_are_pinned(all_docs, kustomization) -> None:
    assert v.image_problems(all_docs, kustomization) == []


def test_ingress_reaches_serve_with_tls(docs_by_file, rayservice, serve_cfg) -> None:
    (ingress,) = v.find(docs_by_file["ingress.yaml"], "Ingress")
    assert v.ingress_problems(ingress, rayservice, serve_cfg) == []


def test_storage_endpoint_is_the_minio_service(serve_cfg, all_docs, kustomization) -> None:
    assert v.storage_endpoint_problems(serve_cfg, all_docs, kustomization["namespace"]) == []


@pytest.mark.skipif(shutil.which("sh") is None, reason="no /bin/sh to syntax-check the Job script")
def test_bucket_job_script_is_valid_shell(docs_by_file) -> None:
    (job,) = v.find(docs_by_file["minio.yaml"], "Job")
    script = job["spec"]["template"]["spec"]["containers"][0]["args"][0]
    result = subprocess.run(["sh", "-n"], input=script, text=True, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------- secrets


def test_every_secret_reference_exists_in_the_example(all_docs, secrets) -> None:
    assert v.secret_ref_problems(all_docs, secrets) == []


def test_app_secrets_reach_the_replicas(rayservice) -> None:
    needed = {
        "APPID",
        "APPKEY",
        "HF_WHISPERX",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AURALAB_API_KEYS",
    }
    for group in rayservice["spec"]["rayClusterConfig"]["workerGroupSpecs"]:
        env = {e["name"]: e for e in group["template"]["spec"]["containers"][0]["env"]}
        assert needed <= set(env), group["groupName"]
        assert all("secretKeyRef" in env[n]["valueFrom"] for n in needed), group["groupName"]
        assert env["HF_HUB_OFFLINE"]["value"] == "1"


def test_example_secrets_are_placeholders(docs_by_file) -> None:
    assert v.placeholder_problems(docs_by_file["secrets.example.yaml"]) == []


# ----------------------------------------------------------------------------- serve config


def test_serve_config_v2_is_valid_for_ray_and_our_args(serve_cfg) -> None:
    assert vs.serve_config_problems(serve_cfg, "serveConfigV2") == []


def test_serve_config_v2_matches_serve_config_yaml(local_cfg, serve_cfg) -> None:
    assert vs.drift_problems(local_cfg, serve_cfg) == []


def test_serve_config_v2_deployments_are_bound_by_the_builder(serve_cfg) -> None:
    assert vs.built_deployment_problems(serve_cfg, "serveConfigV2") == []


def test_every_replica_fits_a_worker_group(rayservice, serve_cfg) -> None:
    assert vs.placement_problems(rayservice, serve_cfg) == []


def test_pods_outlive_graceful_shutdowns(rayservice, serve_cfg) -> None:
    assert vs.shutdown_problems(rayservice, serve_cfg) == []


def test_overload_answers_503_with_retry_after(serve_cfg) -> None:
    (app,) = serve_cfg["applications"]
    gateway = next(d for d in app["deployments"] if d["name"] == "Gateway")
    assert gateway["max_queued_requests"] > 0
    assert gateway["backpressure_config"]["status_code"] == 503
    assert gateway["backpressure_config"]["retry_after_s"] > 0


def test_ray_version_matches_the_installed_ray(rayservice) -> None:
    import ray

    assert rayservice["spec"]["rayClusterConfig"]["rayVersion"] == ray.__version__


# ---------------------------------------------------------------------------------- metrics


def test_dashboard_queries_only_metrics_we_emit(dashboard, emitted) -> None:
    assert vm.dashboard_problems(dashboard, emitted, vm.RAY_SERVE_METRICS) == []


def test_dashboard_has_a_panel_for_every_metric(dashboard, emitted) -> None:
    assert vm.dashboard_coverage_problems(dashboard, emitted) == []


@pytest.mark.parametrize("name", sorted(vm.RAY_SERVE_METRICS))
def test_ray_serve_metric_names_exist_in_installed_ray(name: str) -> None:
    import ray.serve

    source = Path(ray.serve.__file__).parent
    texts = (p.read_text(errors="ignore").replace("{protocol_name}", "http") for p in source.rglob("*.py"))
    assert any(f'"{name}"' in t for t in texts), f"Ray Serve no longer defines {name}"


# ------------------------------------------------------------------------------- Dockerfile


def test_dockerfile_matches_ray_python_and_cluster_cache(serve_cfg) -> None:
    import ray

    assert f"{sys.version_info.major}.{sys.version_info.minor}" == PYTHON
    cache_dir = serve_cfg["applications"][0]["args"]["models"]["cache_dir"]
    problems = v.dockerfile_problems((ROOT / "Dockerfile").read_text(), ray.__version__, PYTHON, cache_dir)
    assert problems == []


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", ".data", ".git", ".pytest_cache"} <= ignored


# -------------------------------------------------------------- broken copies must be reported

Ctx = dict[str, Any]


def _gateway(cfg: Ctx) -> Ctx:
    return next(d for d in cfg["applications"][0]["deployments"] if d["name"] == "Gateway")


def _break_crd_field(c: Ctx) -> list[str]:
    c["rs"]["spec"]["rayClusterConfig"]["headGroupSpec"]["rayStartParam"] = {"num-cpus": "0"}
    return v.schema_problems(c["rs"], c["crd"](), "rayservice.yaml")


def _break_crd_type(c: Ctx) -> list[str]:
    c["rs"]["spec"]["rayClusterConfig"]["workerGroupSpecs"][1]["minReplicas"] = "zero"
    return v.schema_problems(c["rs"], c["crd"](), "rayservice.yaml")


def _break_name_length(c: Ctx) -> list[str]:
    c["rs"]["metadata"]["name"] = "auralab-" + "x" * 45
    return v.kuberay_problems(c["rs"])


def _break_group_name(c: Ctx) -> list[str]:
    c["rs"]["spec"]["rayClusterConfig"]["workerGroupSpecs"][1]["groupName"] = "GPU_pool"
    return v.kuberay_problems(c["rs"])


def _break_manual_auth_env(c: Ctx) -> list[str]:
    head = c["rs"]["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    head["env"].append({"name": "RAY_AUTH_MODE", "value": "token"})
    return v.kuberay_problems(c["rs"])


def _break_secret_key(c: Ctx) -> list[str]:
    c["secrets"]["auralab-app"].discard("APPKEY")
    return v.secret_ref_problems(c["docs"], c["secrets"])


def _break_auth_secret(c: Ctx) -> list[str]:
    del c["secrets"]["auralab-ray-auth"]
    return v.secret_ref_problems(c["docs"], c["secrets"])


def _break_serve_key(c: Ctx) -> list[str]:
    gateway = _gateway(c["cfg"])
    gateway["max_queued_request"] = gateway.pop("max_queued_requests")
    return vs.serve_config_problems(c["cfg"], "serveConfigV2")


def _break_app_args(c: Ctx) -> list[str]:
    c["cfg"]["applications"][0]["args"]["storage"]["bucket_name"] = "auralab"
    return vs.serve_config_problems(c["cfg"], "serveConfigV2")


def _break_drift(c: Ctx) -> list[str]:
    local = copy.deepcopy(c["cfg"])  # a local config in step with the cluster one...
    assert vs.drift_problems(local, c["cfg"]) == []
    c["cfg"]["applications"][0]["deployments"][1]["name"] = "TaskRunners"  # ...until one side drifts
    return vs.drift_problems(local, c["cfg"])


def _break_dashboard_metric(c: Ctx) -> list[str]:
    c["dashboard"]["panels"][0]["targets"][0]["expr"] = "sum(rate(ray_auralab_made_up_total[5m]))"
    return vm.dashboard_problems(c["dashboard"], c["emitted"], vm.RAY_SERVE_METRICS)


def _break_dashboard_suffix(c: Ctx) -> list[str]:
    c["dashboard"]["panels"][0]["targets"][0]["expr"] = "sum(rate(ray_auralab_tasks_total_total[5m]))"
    return vm.dashboard_problems(c["dashboard"], c["emitted"], vm.RAY_SERVE_METRICS)


def _break_core_kind(c: Ctx) -> list[str]:
    pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")
    (sts,) = v.find(c["docs"], "StatefulSet")
    sts["spec"]["replica"] = sts["spec"].pop("replicas")
    return v.core_problems(sts, "minio.yaml")


def _break_dockerfile(c: Ctx) -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("ray:2.60.0-py311-gpu", "ray:2.59.0-py310-gpu")
    return v.dockerfile_problems(text, "2.60.0", PYTHON, None)


def _break_gpu_fraction(c: Ctx) -> list[str]:
    dep = next(d for d in c["cfg"]["applications"][0]["deployments"] if d["name"] == "Transcriber-base")
    dep["ray_actor_options"]["num_gpus"] = 2
    return vs.placement_problems(c["rs"], c["cfg"])


def _break_ingress_body(c: Ctx) -> list[str]:
    (ingress,) = v.find(c["docs"], "Ingress")
    ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"] = "10m"
    return v.ingress_problems(ingress, c["rs"], c["cfg"])


def _break_endpoint(c: Ctx) -> list[str]:
    storage = c["cfg"]["applications"][0]["args"]["storage"]
    storage["endpoint_url"] = "http://minio.default.svc.cluster.local:9000"
    return v.storage_endpoint_problems(c["cfg"], c["docs"], "auralab")


BROKEN: list[tuple[str, Callable[[Ctx], list[str]], str]] = [
    ("crd-unknown-field", _break_crd_field, "rayStartParam"),
    ("crd-wrong-type", _break_crd_type, "minReplicas"),
    ("rayservice-name-too-long", _break_name_length, "metadata.name"),
    ("group-name-not-dns1123", _break_group_name, "GPU_pool"),
    ("auth-env-set-by-hand", _break_manual_auth_env, "RAY_AUTH_MODE"),
    ("missing-secret-key", _break_secret_key, "'APPKEY'"),
    ("missing-auth-secret", _break_auth_secret, "auralab-ray-auth"),
    ("serve-config-typo", _break_serve_key, "max_queued_request"),
    ("app-args-unknown-key", _break_app_args, "bucket_name"),
    ("serve-config-drift", _break_drift, "TaskRunners"),
    ("dashboard-unknown-metric", _break_dashboard_metric, "ray_auralab_made_up_total"),
    ("dashboard-double-total", _break_dashboard_suffix, "ray_auralab_tasks_total_total"),
    ("core-kind-unknown-field", _break_core_kind, "replica"),
    ("dockerfile-wrong-base", _break_dockerfile, "FROM"),
    ("gpu-fraction-does-not-fit", _break_gpu_fraction, "Transcriber-base"),
    ("ingress-body-too-small", _break_ingress_body, "proxy-body-size"),
    ("endpoint-wrong-namespace", _break_endpoint, "'default'"),
]


@pytest.mark.parametrize(("case", "breaker", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_copy_is_reported(
    case: str, breaker: Callable[[Ctx], list[str]], expected: str, all_docs, secrets, dashboard
) -> None:
    docs = copy.deepcopy(all_docs)
    (rs,) = v.find(docs, "RayService")
    try:
        emitted = vm.emitted_metrics(importlib.import_module("deployments.metrics"))
    except ImportError:
        emitted = FALLBACK_METRICS

    def crd() -> dict[str, Any]:
        if not CRD.is_file():
            pytest.skip(f"KubeRay CRD schema not found: {CRD}")
        return v.crd_schema(CRD)

    ctx: Ctx = {
        "docs": docs,
        "rs": rs,
        "cfg": v.serve_config_of(rs),
        "secrets": {k: set(s) for k, s in secrets.items()},
        "dashboard": copy.deepcopy(dashboard),
        "emitted": emitted,
        "crd": crd,
    }
    problems = breaker(ctx)
    assert any(expected in p for p in problems), f"{case}: {expected!r} not reported in {problems}"
