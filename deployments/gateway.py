"""``Gateway``: the HTTP ingress on port 8888, serving the routes the AuraLab app calls."""

from __future__ import annotations

import logging
from typing import Any

from ray import serve

from deployments.api import create_api
from deployments.config import AppArgs
from deployments.context import GatewayContext
from storage import TaskStore, open_store

logger = logging.getLogger("ray.serve")
api = create_api()


def open_app_store(args: AppArgs):  # type: ignore[no-untyped-def]
    s = args.storage
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
@serve.ingress(api)
class Gateway:
    def __init__(self, args: AppArgs, runner: Any = None, vivo: Any = None, **extras: Any):
        store = open_app_store(args)
        api.state.ctx = GatewayContext(
            args=args, store=store, tasks=TaskStore(store), runner=runner, vivo=vivo, extras=extras
        )
        logger.info("Gateway ready: storage=%r, models=%s", store, args.models.names)
