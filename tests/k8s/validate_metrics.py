"""Validators for the Grafana dashboard: every queried metric is one we (or Ray Serve) emit, under
its exported Prometheus name, and every metric we emit has a panel."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tests.k8s.validate import Doc

# Ray Serve's own metrics the dashboard may query (name -> kind), besides ours. Each name is checked
# against the installed Ray's source by the tests, so a rename upstream shows up here.
RAY_SERVE_METRICS: dict[str, str] = {
    "serve_num_http_requests": "counter",
    "serve_num_http_error_requests": "counter",
    "serve_http_request_latency_ms": "histogram",
    "serve_deployment_replica_healthy": "gauge",
    "serve_deployment_queued_queries": "gauge",
}

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
        return {
            name: spec[0] if isinstance(spec, tuple | list) else str(spec) for name, spec in metrics.items()
        }
    return {name: kind for name in module.METRIC_NAMES for kind in ("counter", "histogram", "gauge")}
