"""Load test: many transcription tasks at once plus a stream of light requests, on loopback.

Not a pytest test: it prints figures measured in one run.

    .venv/bin/python -m benchmarks.load_test               # starts moto + Ray Serve itself
    .venv/bin/python -m benchmarks.load_test --url http://127.0.0.1:8888 [--api-key KEY]

Counts and time are bounded (--tasks, --light, --deadline). Printed: accepted, rejected (503/429),
other errors, completed, failed, lost (accepted but never finished or vanished: must be 0), p50/p95
latency of the light requests and of submissions, task end-to-end time, and the peak RSS summed
over this machine's Ray processes (sampled with psutil while the test runs).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from tests.helpers.speech import say

SENTENCES = [
    "Good morning, the train to London leaves at nine.",
    "My sister plays the violin in a small orchestra.",
    "Turn left at the bank and walk two blocks north.",
    "The coffee shop on the corner opens at seven.",
    "Please send the report before the end of the week.",
]
LIGHT = [
    "/health",
    "/bluelm/health",
    "/whisperx/tasks?limit=20",
    "/whisperx/models",
    "/model?model=whisperx&action=list",
]


class RssSampler(threading.Thread):
    """Peak of the summed RSS of Ray's processes (raylet, GCS, workers and replicas) on this host."""

    def __init__(self, interval_s: float = 0.5):
        super().__init__(daemon=True)
        self.interval_s = interval_s
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        import psutil

        while not self.stop.is_set():
            total = 0
            for proc in psutil.process_iter(["name", "cmdline", "memory_info"]):
                try:
                    line = " ".join(proc.info["cmdline"] or [])
                    if "ray" in (proc.info["name"] or "").lower() or "ray/" in line or "ray::" in line:
                        total += proc.info["memory_info"].rss
                except (psutil.Error, TypeError):
                    continue
            self.peak = max(self.peak, total)
            self.stop.wait(self.interval_s)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def submit_all(client: httpx.AsyncClient, clips: list[Path], stats: dict, retries: int) -> list[str]:
    async def one(clip: Path) -> str | None:
        for attempt in range(retries + 1):  # a well-behaved client honours Retry-After
            started = time.monotonic()
            try:
                response = await client.post(
                    "/whisperx/process", files={"file": (clip.name, clip.read_bytes(), "audio/wav")}
                )
            except httpx.HTTPError:
                stats["errors"] += 1
                return None
            stats["submit_latency"].append(time.monotonic() - started)
            if response.status_code == 200:
                stats["accepted"] += 1
                return str(response.json()["task_id"])
            stats["rejected" if response.status_code in (429, 503) else "errors"] += 1
            stats["codes"][response.status_code] = stats["codes"].get(response.status_code, 0) + 1
            if response.status_code not in (429, 503) or attempt == retries:
                return None
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))
        return None

    ids = await asyncio.gather(*(one(c) for c in clips))
    return [i for i in ids if i]


async def light_requests(client: httpx.AsyncClient, count: int, concurrency: int, stats: dict) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            started = time.monotonic()
            try:
                response = await client.get(LIGHT[i % len(LIGHT)])
            except httpx.HTTPError:
                stats["light_errors"] += 1
                return
            stats["light_latency"].append(time.monotonic() - started)
            code = response.status_code
            key = "light_ok" if code == 200 else "light_rejected" if code in (429, 503) else "light_errors"
            stats[key] += 1

    await asyncio.gather(*(one(i) for i in range(count)))


async def wait_all(client: httpx.AsyncClient, ids: list[str], deadline: float, stats: dict) -> None:
    pending = set(ids)
    while pending and time.monotonic() < deadline:
        for task_id in list(pending):
            try:
                response = await client.get(f"/whisperx/status/{task_id}")
            except httpx.HTTPError:
                continue
            if response.status_code == 404:
                stats["vanished"] += 1
                pending.discard(task_id)
                continue
            body = response.json()
            if body.get("status") in ("completed", "failed"):
                stats[body["status"]] += 1
                stats["task_seconds"].append(time.time() - body["created_at"])
                pending.discard(task_id)
        await asyncio.sleep(1.0)
    stats["unfinished"] = len(pending)


async def run_load(url: str, clips: list[Path], args: argparse.Namespace) -> dict:
    stats: dict = {k: 0 for k in ("accepted", "rejected", "errors", "completed", "failed", "vanished")}
    stats.update(light_ok=0, light_rejected=0, light_errors=0, codes={})
    stats.update(submit_latency=[], light_latency=[], task_seconds=[])
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=url, timeout=120, headers=headers, limits=limits) as client:
        started = time.monotonic()
        ids, _ = await asyncio.gather(
            submit_all(client, clips, stats, args.retries),
            light_requests(client, args.light, args.concurrency, stats),
        )
        await wait_all(client, ids, started + args.deadline, stats)
        stats["wall_s"] = time.monotonic() - started
    return stats


def start_service(extra_env: dict[str, str] | None = None) -> tuple[str, object]:
    """moto_server + a local Ray Serve app with the integration test's args."""
    import ray
    from ray import serve

    from deployments.app import build_app
    from deployments.config import AppArgs
    from tests.helpers.s3server import S3Server, free_port
    from tests.integration.conftest import app_args_for_tests

    s3 = S3Server().start()
    env = {**s3.env(), "HF_HUB_OFFLINE": "1", "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    env.update(extra_env or {})
    os.environ.update(env)
    port = free_port()
    ray.init(num_cpus=8, include_dashboard=False, runtime_env={"env_vars": env}, logging_level="WARNING")
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(build_app(AppArgs.model_validate(app_args_for_tests(s3, "auralab-load"))), name="auralab")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return url, s3


def report(stats: dict, peak_rss: int, tasks: int) -> None:
    lost = stats["vanished"] + stats["unfinished"]
    ms = lambda values, q: f"{pct(values, q) * 1000:.0f} ms"  # noqa: E731
    print("\n=== load test ===")
    print(
        f"transcription submits: {tasks} tried, {stats['accepted']} accepted, "
        f"{stats['rejected']} rejections (503/429, retried per Retry-After), "
        f"{stats['errors']} other errors {stats['codes']}"
    )
    print(
        f"tasks: {stats['completed']} completed, {stats['failed']} failed, LOST {lost} "
        f"({stats['vanished']} vanished, {stats['unfinished']} unfinished at the deadline)"
    )
    print(
        f"light requests: {stats['light_ok']} ok, {stats['light_rejected']} rejected, "
        f"{stats['light_errors']} errors; p50 {ms(stats['light_latency'], 0.5)}, "
        f"p95 {ms(stats['light_latency'], 0.95)}"
    )
    print(f"submit latency: p50 {ms(stats['submit_latency'], 0.5)}, p95 {ms(stats['submit_latency'], 0.95)}")
    if stats["task_seconds"]:
        print(
            f"task end-to-end: p50 {pct(stats['task_seconds'], 0.5):.1f} s, "
            f"p95 {pct(stats['task_seconds'], 0.95):.1f} s, "
            f"mean {statistics.mean(stats['task_seconds']):.1f} s"
        )
    print(f"wall time {stats['wall_s']:.1f} s; peak RSS of Ray processes {peak_rss / 2**20:.0f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running gateway (default: start one here)")
    parser.add_argument("--api-key", default=os.environ.get("AURALAB_API_KEY"))
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--light", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32, help="light requests in flight at once")
    parser.add_argument("--retries", type=int, default=5, help="resubmits after a 429/503 (Retry-After)")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds for everything to finish")
    args = parser.parse_args()
    if args.url and not args.url.startswith(("http://127.", "http://localhost")):
        parser.error("loopback only: --url must be http://127.x or http://localhost")
    with tempfile.TemporaryDirectory() as tmp:
        voices = [say(text, Path(tmp) / f"s{i}") for i, text in enumerate(SENTENCES)]
        clips = [voices[i % len(voices)] for i in range(args.tasks)]
        url, s3 = (args.url, None) if args.url else start_service()
        sampler = RssSampler()
        sampler.start()
        try:
            stats = asyncio.run(run_load(url, clips, args))
        finally:
            sampler.stop.set()
            sampler.join()
            if s3 is not None:
                from ray import serve

                serve.shutdown()
                s3.stop()  # type: ignore[attr-defined]
    report(stats, sampler.peak, args.tasks)
    return 1 if stats["vanished"] + stats["unfinished"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
