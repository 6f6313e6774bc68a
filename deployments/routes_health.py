"""Health routes, in the old services' shapes."""

from __future__ import annotations

import time

from fastapi import APIRouter

router = APIRouter(tags=["health"])


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


@router.get("/health")
async def health() -> dict[str, str]:
    """The old Flask WhisperX service's health check."""
    return {"status": "ok", "message": "WhisperX service is running", "timestamp": _now()}


@router.get("/bluelm/health")
async def bluelm_health() -> dict[str, str]:
    """The old Go gateway's health check."""
    return {"status": "ok", "message": "BlueLM service is running", "timestamp": _now()}


@router.get("/test")
async def test() -> dict[str, object]:
    return {"message": "Test handler works", "success": True}
