"""The application builder: ``serve run serve_config.yaml`` imports ``deployments.app:build_app``.

It receives the validated args and binds the deployment graph, handing each deployment only what
it needs.
"""

from __future__ import annotations

from typing import Any

from ray.serve import Application

from deployments.config import AppArgs
from deployments.gateway import Gateway


def build_app(args: AppArgs) -> Application:
    """Bind the graph. Serve validates ``args`` against :class:`AppArgs` (unknown keys rejected)."""
    if isinstance(args, dict):
        args = AppArgs.model_validate(args)
    extras: dict[str, Any] = {}
    return Gateway.bind(args, **extras)
