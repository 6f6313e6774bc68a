"""Our custom metrics reach Ray's Prometheus endpoint, with values, after a real transcription."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.helpers.speech import say
from tests.integration.conftest import wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.model]


def samples(text: str, name: str) -> list[tuple[str, float]]:
    """(labels, value) of every sample of ``name`` (Prometheus text format)."""
    pattern = re.compile(rf"^{re.escape(name)}(\{{[^}}]*\}})?\s+([0-9.eE+-]+)$", re.MULTILINE)
    return [(m.group(1) or "", float(m.group(2))) for m in pattern.finditer(text)]


def test_transcription_metrics_are_exported(serve_app, tmp_path):
    clip = say("Metrics should count this short sentence.", tmp_path / "m")
    with serve_app.client() as client, open(clip, "rb") as handle:
        task_id = client.post("/whisperx/process", files={"file": ("m.wav", handle, "audio/wav")}).json()[
            "task_id"
        ]
        assert wait_for_status(client, task_id, {"completed", "failed"})["status"] == "completed"

    wanted = {
        "ray_auralab_audio_seconds_processed_total": lambda s: any(v > 1.0 for _, v in s),
        "ray_auralab_batch_size_count": lambda s: any(v >= 1 for _, v in s),
        "ray_auralab_realtime_factor_count": lambda s: any(v >= 1 for _, v in s),
        "ray_auralab_tasks_total": lambda s: any('status="completed"' in tags and v >= 1 for tags, v in s),
        "ray_auralab_task_latency_seconds_count": lambda s: any('engine="whisperx"' in tags for tags, _ in s),
        "ray_auralab_queue_depth": lambda s: len(s) > 0,
    }
    deadline, text, missing = time.monotonic() + 60, "", list(wanted)
    while missing and time.monotonic() < deadline:
        text = httpx.get(serve_app.metrics_url, timeout=5).text
        missing = [name for name, ok in wanted.items() if not ok(samples(text, name))]
        time.sleep(1)
    assert not missing, f"metrics missing or without values: {missing}"
    assert 'model="base"' in text
