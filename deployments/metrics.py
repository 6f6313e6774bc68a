"""Custom application metrics, exported through Ray's metrics agent (Prometheus format).

Ray prefixes custom metric names with ``ray_``; counters get a ``_total`` suffix in Prometheus.
The Grafana dashboard in ``k8s/`` queries exactly these names (a test checks it).
"""

from __future__ import annotations

from functools import cache

from ray.serve import metrics

AUDIO_SECONDS = "auralab_audio_seconds_processed"
REALTIME_FACTOR = "auralab_realtime_factor"
BATCH_SIZE = "auralab_batch_size"
QUEUE_DEPTH = "auralab_queue_depth"
TASKS = "auralab_tasks"
TASK_LATENCY = "auralab_task_latency_seconds"
VIVO_LATENCY = "auralab_vivo_upstream_latency_seconds"
VIVO_ERRORS = "auralab_vivo_errors"

# name -> (kind, tag keys); the single list the dashboard test reads.
METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    AUDIO_SECONDS: ("counter", ("model",)),
    REALTIME_FACTOR: ("histogram", ("model",)),
    BATCH_SIZE: ("histogram", ("model", "mode")),
    QUEUE_DEPTH: ("gauge", ()),
    TASKS: ("counter", ("status", "engine")),
    TASK_LATENCY: ("histogram", ("engine",)),
    VIVO_LATENCY: ("histogram", ("capability",)),
    VIVO_ERRORS: ("counter", ("capability", "code")),
}
METRIC_NAMES = list(METRICS)

_BOUNDARIES = {
    REALTIME_FACTOR: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0],
    BATCH_SIZE: [1, 2, 4, 8, 16, 32, 64],
    TASK_LATENCY: [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    VIVO_LATENCY: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
}
_DESCRIPTIONS = {
    AUDIO_SECONDS: "Seconds of audio transcribed",
    REALTIME_FACTOR: "Transcription wall time divided by audio duration, per batch",
    BATCH_SIZE: "Chunks served by one batched forward pass",
    QUEUE_DEPTH: "Unfinished transcription tasks seen by a runner",
    TASKS: "Tasks that reached a status",
    TASK_LATENCY: "Seconds from task creation to completion or failure",
    VIVO_LATENCY: "Seconds per vivo upstream call",
    VIVO_ERRORS: "vivo upstream errors by our error code",
}


@cache
def metric(name: str) -> metrics.Counter | metrics.Gauge | metrics.Histogram:
    """The process-wide metric object for ``name`` (created on first use, inside a replica)."""
    kind, tags = METRICS[name]
    description = _DESCRIPTIONS[name]
    if kind == "counter":
        return metrics.Counter(name, description=description, tag_keys=tags)
    if kind == "gauge":
        return metrics.Gauge(name, description=description, tag_keys=tags)
    return metrics.Histogram(name, description=description, boundaries=_BOUNDARIES[name], tag_keys=tags)


def count(name: str, value: float = 1.0, **tags: str) -> None:
    metric(name).inc(value, tags=tags or None)  # type: ignore[union-attr]


def observe(name: str, value: float, **tags: str) -> None:
    metric(name).observe(value, tags=tags or None)  # type: ignore[union-attr]


def gauge(name: str, value: float, **tags: str) -> None:
    metric(name).set(value, tags=tags or None)  # type: ignore[union-attr]
