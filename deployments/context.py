"""What the gateway's routes need, built once per gateway replica and reached through the request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request

from deployments.config import AppArgs
from storage import ObjectStore, TaskStore

T = TypeVar("T")


@dataclass
class GatewayContext:
    args: AppArgs
    store: ObjectStore
    tasks: TaskStore
    runner: Any = None
    vivo: Any = None

    async def io(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking storage work off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)


def get_context(request: Request) -> GatewayContext:
    ctx: GatewayContext | None = getattr(request.app.state, "ctx", None)
    if ctx is None:
        from deployments.errors import ServiceUnavailable

        raise ServiceUnavailable("The gateway is starting; try again shortly")
    return ctx
