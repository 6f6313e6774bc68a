"""``Gateway``: the HTTP ingress on port 8888, serving the routes the AuraLab app calls."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from ray import serve

from deployments.api import create_api
from deployments.config import AppArgs, StorageArgs
from deployments.context import GatewayContext
from storage import ObjectStore, TaskStore, open_store

logger = logging.getLogger("ray.serve")


def open_storage(s: StorageArgs) -> ObjectStore:
    return open_store(
        s.backend,
        root=s.root,
        bucket=s.bucket,
        endpoint_url=s.endpoint_url,
        region=s.region,
        prefix=s.prefix,
        create_bucket=s.create_bucket,
    )


@serve.deployment(max_ongoing_requests=64, ray_actor_options={"num_cpus": 0.25})
@serve.ingress()
class Gateway:
    """Each replica builds its own FastAPI app around its own context (handles, storage, args)."""

    def __init__(self, args: AppArgs, runner: Any = None, vivo: Any = None):
        store = open_storage(args.storage)
        self.ctx = GatewayContext(args=args, store=store, tasks=TaskStore(store), runner=runner, vivo=vivo)
        logger.info("Gateway ready: storage=%r, models=%s", store, args.models.names)

    def __serve_build_asgi_app__(self) -> FastAPI:
        api = create_api(self.ctx.args)
        api.state.ctx = self.ctx
        return api
