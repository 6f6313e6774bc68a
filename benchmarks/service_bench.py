"""Service throughput and overhead, measured side by side in one run (not a test).

1. N short clips (~3-4 s, different sentences) submitted concurrently to the HTTP API of a local
   Ray Serve app with batching on (stacking/packing, ``max_batch_size`` N), then again with
   batching off (``max_batch_size: 1``), and the same clips through faster-whisper directly in this
   process, one at a time. Throughput = audio seconds / wall seconds, from first upload to last
   result.
2. One long recording through the service against faster-whisper directly: the service's overhead.

    .venv/bin/python -m benchmarks.service_bench --clips 8
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.engine_bench import SENTENCES
from tests.helpers.s3server import free_port
from tests.helpers.speech import SAMPLE_RATE, concat_with_silence, say_array, word_error_rate, write_wav

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
LONG_TEXT = " ".join(SENTENCES)


def make_audio(root: Path, clips: int, long_repeats: int) -> tuple[list[Path], list[str], Path, float]:
    texts = [SENTENCES[i % len(SENTENCES)] for i in range(clips)]
    paths = [write_wav(say_array(t), root / f"clip{i}.wav") for i, t in enumerate(texts)]
    long_audio = concat_with_silence([say_array(LONG_TEXT)] * long_repeats, gap_s=1.0)
    return paths, texts, write_wav(long_audio, root / "long.wav"), len(long_audio) / SAMPLE_RATE


def seconds(path: Path) -> float:
    return (path.stat().st_size - 44) / 2 / SAMPLE_RATE


def direct(model_dir: Path, paths: list[Path]) -> tuple[float, list[str]]:
    """faster-whisper in this process, one file at a time (word timestamps on, language given)."""
    from faster_whisper import WhisperModel

    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8")
    started = time.perf_counter()
    texts = []
    for path in paths:
        segments, _ = model.transcribe(str(path), language="en", word_timestamps=True, vad_filter=True)
        texts.append(" ".join(s.text.strip() for s in segments))
    return time.perf_counter() - started, texts


class InProcessStages:
    """The pipeline's stages called directly on one engine in this process (no Ray, no HTTP)."""

    def __init__(self, engine):  # type: ignore[no-untyped-def]
        self.engine = engine

    async def detect_language(self, audio):  # type: ignore[no-untyped-def]
        return self.engine.detect_language(audio)[0]

    async def transcribe(self, request):  # type: ignore[no-untyped-def]
        return self.engine.transcribe_batch([request])[0]

    def can_align(self, language: str) -> bool:
        return False


def direct_pipeline(model_dir: Path, path: Path) -> tuple[float, str]:
    """Our own pipeline (VAD, chunks, engine) in this process: what the service adds is the rest."""
    import asyncio

    from models.engine import WhisperEngine
    from models.pipeline import PipelineOptions, run_pipeline
    from models.vad import SpeechDetector

    engine = WhisperEngine(model_dir, device="cpu", compute_type="int8")
    detector = SpeechDetector(speech_pad_ms=200)

    async def ignore(*_args: object) -> None:
        return None

    started = time.perf_counter()
    result = asyncio.run(
        run_pipeline(path, PipelineOptions(language="en"), InProcessStages(engine), detector, ignore)
    )
    return time.perf_counter() - started, result.transcript.text


def through_service(url: str, paths: list[Path]) -> tuple[float, list[str]]:
    """Upload all at once, poll until every task ends; wall time from first upload to last result."""

    def one(path: Path) -> str:
        with httpx.Client(base_url=url, timeout=600) as client, open(path, "rb") as handle:
            task_id = client.post(
                "/whisperx/process", files={"file": (path.name, handle)}, data={"language": "en"}
            ).json()["task_id"]
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                body = client.get(f"/whisperx/status/{task_id}").json()
                if body["status"] in ("completed", "failed"):
                    return body.get("transcription", {}).get("text", "")
                time.sleep(0.1)
        raise TimeoutError(task_id)

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(len(paths)) as pool:
        texts = list(pool.map(one, paths))
    return time.perf_counter() - started, texts


def start_app(data_dir: Path, max_batch_size: int) -> None:
    from ray import serve

    from deployments.app import build_app
    from deployments.config import AppArgs

    args = AppArgs.model_validate(
        {
            "storage": {"backend": "local", "root": str(data_dir)},
            "models": {"served": [{"model": "base", "device": "cpu", "compute_type": "int8",
                                   "max_batch_size": max_batch_size}]},
            "runner": {"max_concurrent_tasks": 16, "scan_interval_s": 0.5, "chunk_concurrency": 16},
        }
    )  # fmt: skip
    serve.run(build_app(args), name="auralab", route_prefix="/")


def report(name: str, audio_s: float, wall_s: float, base_wall: float, wer: float) -> None:
    print(f"{name:34} {wall_s:8.2f} s  {audio_s / wall_s:7.2f} audio-s/s  "
          f"{base_wall / wall_s:5.2f}x vs direct  WER {wer:.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--long-repeats", type=int, default=4, help="passage repeats in the long file")
    ns = parser.parse_args()

    import ray
    from ray import serve

    from models.weights import resolve_model

    model_dir = resolve_model("base", Path("~/.cache/auralab/models").expanduser())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        clips, texts, long_path, long_s = make_audio(root, ns.clips, ns.long_repeats)
        audio_s = sum(seconds(p) for p in clips)
        reference = " ".join(texts)
        print(f"{ns.clips} clips, {audio_s:.1f} s of audio (mean {audio_s / ns.clips:.2f} s); "
              f"long file {long_s:.1f} s; {os.cpu_count()} CPUs")  # fmt: skip

        direct_wall, direct_texts = direct(model_dir, clips)
        direct_long, _ = direct(model_dir, [long_path])
        pipeline_long, pipeline_text = direct_pipeline(model_dir, long_path)

        port = free_port()
        ray.init(num_cpus=max(4, os.cpu_count() or 2), include_dashboard=False, logging_level="ERROR")
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        url = f"http://127.0.0.1:{port}"
        results = {}
        for batch in (ns.clips, 1):
            start_app(root / f"data{batch}", batch)
            through_service(url, clips[:2])  # warm up: model loaded, code paths hot
            results[batch] = through_service(url, clips)
            if batch == ns.clips:
                service_long, service_text = through_service(url, [long_path])
        serve.shutdown()
        ray.shutdown()

    print(f"\n{'short clips':34} {'wall':>10}  {'throughput':>17}")
    report("faster-whisper direct, one by one", audio_s, direct_wall, direct_wall,
           word_error_rate(reference, " ".join(direct_texts)))  # fmt: skip
    for batch, label in (
        (1, "service, batching off (batch 1)"),
        (ns.clips, f"service, batching on (batch {ns.clips})"),
    ):
        wall, heard = results[batch]
        report(label, audio_s, wall, direct_wall, word_error_rate(reference, " ".join(heard)))
    on, off = results[ns.clips][0], results[1][0]
    print(
        f"\nbatching on vs off: {off / on:.2f}x;  "
        f"batching on vs direct one-at-a-time: {direct_wall / on:.2f}x"
    )
    long_ref = " ".join([LONG_TEXT] * ns.long_repeats)
    wer_pipeline = word_error_rate(long_ref, pipeline_text)
    wer_service = word_error_rate(long_ref, service_text[0])
    print(f"\nlong file ({long_s:.0f} s): faster-whisper transcribe() {direct_long:.2f} s")
    print(f"  our pipeline in-process {pipeline_long:.2f} s (WER {wer_pipeline:.3f})")
    print(f"  through the service     {service_long:.2f} s (WER {wer_service:.3f})")
    print(f"  service overhead vs the same pipeline here: {100 * (service_long / pipeline_long - 1):+.1f}%")
    print(f"  service vs faster-whisper transcribe(): {100 * (service_long / direct_long - 1):+.1f}%")


if __name__ == "__main__":
    main()
