"""The first slice: health routes in the old shapes and one JSON error vocabulary."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_health_routes_keep_the_old_shapes(serve_app):
    with serve_app.client() as client:
        flask = client.get("/health")
        gateway = client.get("/bluelm/health")
    assert flask.status_code == 200
    assert flask.json()["status"] == "ok"
    assert flask.json()["message"] == "WhisperX service is running"
    assert gateway.json()["message"] == "BlueLM service is running"
    assert len(gateway.json()["timestamp"]) == len("2025-07-06 12:00:00")


def test_unknown_route_is_a_json_404(serve_app):
    with serve_app.client() as client:
        response = client.get("/no/such/route")
    assert response.status_code == 404
    body = response.json()
    assert body == {
        "success": False,
        "error": "not_found",
        "message": "Endpoint not found",
        "request_id": response.headers["x-request-id"],
    }


def test_request_id_is_echoed(serve_app):
    with serve_app.client() as client:
        response = client.get("/whisperx/status/not-a-uuid", headers={"X-Request-ID": "client-req-12345"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_task_id"
    assert response.json()["request_id"] == "client-req-12345"
