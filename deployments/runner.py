"""``TaskRunner``: leases durable tasks and drives them to ``completed`` or ``failed``.

Work is found by listing the ``queue/`` markers of unfinished tasks, so nothing depends on a replica's
memory: a task whose gateway died after writing it, or whose runner died mid-way (its heartbeat
stops and its lease expires), is picked up by the next scan of any runner replica. Attempts are
bounded by the record itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from ray import serve

from deployments import metrics
from deployments.config import AppArgs
from deployments.errors import classify
from deployments.gateway import open_storage
from storage import LeaseLost, TaskNotFound, TaskRecord, TaskStatus, TaskStore

logger = logging.getLogger("ray.serve")

TaskHandler = Callable[[TaskRecord, "TaskRunner"], Awaitable[None]]


@serve.deployment(max_ongoing_requests=64, ray_actor_options={"num_cpus": 0.5}, health_check_period_s=10)
class TaskRunner:
    async def __init__(
        self,
        args: AppArgs,
        transcribers: dict[str, Any],
        diarizer: Any = None,
        aligner: Any = None,
        handlers: dict[str, TaskHandler] | None = None,
    ):
        from models.vad import SpeechDetector

        self.args = args
        self.store = open_storage(args.storage)
        self.tasks = TaskStore(self.store)
        self.transcribers = transcribers
        self.diarizer = diarizer
        self.aligner = aligner
        # Generous padding: chunks cut tight at speech edges lose their first and last words.
        self.detector = SpeechDetector(speech_pad_ms=200)
        self.handlers = handlers or default_handlers()
        self.owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.active: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._scanner = asyncio.create_task(self._scan_forever())
        self._janitor = self._start_janitor()
        logger.info("TaskRunner %s ready", self.owner)

    async def poke(self) -> int:
        """Look for work now (the gateway calls this after creating a task)."""
        self._wake.set()
        return len(self.active)

    async def __del__(self) -> None:
        """Serve calls this when the replica stops: stop looking for work, close the vivo client."""
        from deployments.bluelm_task import close_vivo_client

        for task in (getattr(self, "_scanner", None), getattr(self, "_janitor", None)):
            if task is not None:
                task.cancel()
        await close_vivo_client(self)

    def check_health(self) -> None:
        if self._scanner.done():
            raise RuntimeError("the task scanner stopped")

    def _start_janitor(self) -> asyncio.Task[None] | None:
        """Retention sweeps (see deployments/janitor.py); none when results are kept forever."""
        from deployments.janitor import janitor_loop

        retention = self.args.retention
        if retention.results_ttl_hours <= 0:
            return None
        ttl_s = retention.results_ttl_hours * 3600.0
        return asyncio.create_task(janitor_loop(self.tasks, ttl_s, retention.janitor_interval_s))

    async def _scan_forever(self) -> None:
        interval = self.args.runner.scan_interval_s
        while True:
            try:
                await self._scan_once()
            except Exception as exc:  # storage down, etc.: keep scanning, the tasks are durable
                logger.warning("task scan failed: %s", classify(exc)[2])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            self._wake.clear()

    async def _scan_once(self) -> None:
        ids = await asyncio.to_thread(self.tasks.unfinished_ids)
        metrics.gauge(metrics.QUEUE_DEPTH, len(ids))
        runner = self.args.runner
        for task_id in ids:
            if len(self.active) >= runner.max_concurrent_tasks:
                return
            if task_id in self.active:
                continue
            record = await asyncio.to_thread(
                self.tasks.claim, task_id, self.owner, runner.lease_timeout_s, runner.max_attempts
            )
            if record is None:
                continue
            self.active[task_id] = asyncio.create_task(self._run(record))

    async def _run(self, record: TaskRecord) -> None:
        task_id = record.task_id
        work = asyncio.create_task(self.handlers[record.engine](record, self))
        beat = asyncio.create_task(self._heartbeat(task_id, work))
        try:
            await work
            if self.args.runner.delete_uploads:
                await asyncio.to_thread(self.store.delete, record.upload_key)
            self._finished(record, TaskStatus.COMPLETED)
        except (LeaseLost, TaskNotFound, asyncio.CancelledError):
            logger.info("task %s: lease lost or task deleted; leaving it", task_id)
        except Exception as exc:
            await self._handle_failure(record, exc)
        finally:
            beat.cancel()
            self.active.pop(task_id, None)
            self._wake.set()

    async def _heartbeat(self, task_id: str, work: asyncio.Task[None]) -> None:
        while not work.done():
            await asyncio.sleep(self.args.runner.heartbeat_interval_s)
            try:
                await asyncio.to_thread(self.tasks.heartbeat, task_id, self.owner)
            except (LeaseLost, TaskNotFound):
                work.cancel()
                return
            except Exception as exc:  # a storage blip: the lease has slack, try again next beat
                logger.warning("task %s: heartbeat failed: %s", task_id, classify(exc)[2])

    async def _handle_failure(self, record: TaskRecord, exc: BaseException) -> None:
        status, code, message, _ = classify(exc)
        transient = getattr(exc, "retryable", False) or code == "service_unavailable"
        if transient and record.attempts < self.args.runner.max_attempts:
            logger.warning("task %s: %s; releasing it for another attempt", record.task_id, message)
            await asyncio.to_thread(self._release, record.task_id, message)
            return
        if status == 500:  # ours: log it whole, tell the user no internals
            logger.error("task %s failed", record.task_id, exc_info=exc)
            message = "Processing failed because of an internal error"
        try:
            await asyncio.to_thread(
                self.tasks.transition,
                record.task_id,
                TaskStatus.FAILED,
                owner=self.owner,
                message=f"Task failed: {message}",
                error=message,
                error_code=code,
            )
        except (LeaseLost, TaskNotFound):
            return
        self._finished(record, TaskStatus.FAILED)

    def _release(self, task_id: str, reason: str) -> None:
        def mutate(record: TaskRecord) -> TaskRecord | None:
            if record.lease_owner != self.owner:
                return None
            return record.model_copy(
                update={"lease_owner": None, "heartbeat_at": None, "message": f"Retrying: {reason}"}
            )

        with contextlib.suppress(TaskNotFound):
            self.tasks.update(task_id, mutate)

    def _finished(self, record: TaskRecord, status: TaskStatus) -> None:
        metrics.count(metrics.TASKS, status=status.value, engine=record.engine)
        metrics.observe(metrics.TASK_LATENCY, time.time() - record.created_at, engine=record.engine)


def default_handlers() -> dict[str, TaskHandler]:
    from deployments.bluelm_task import run_bluelm_task
    from deployments.whisperx_task import run_whisperx_task

    return {"whisperx": run_whisperx_task, "bluelm": run_bluelm_task}
