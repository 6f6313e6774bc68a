"""Helpers for fault tests on the shared session app: find and kill Serve replicas, wait for the
application to be whole again (every fault test must leave the app as it found it)."""

from __future__ import annotations

import time

REPLICA_PREFIX = "SERVE_REPLICA::"


def replica_actor_names(app: str, deployment: str) -> list[str]:
    """Names of the live replica actors of one deployment (Serve names them app#deployment#id)."""
    import ray

    wanted = f"{REPLICA_PREFIX}{app}#{deployment}#"
    return sorted(
        a["name"] for a in ray.util.list_named_actors(all_namespaces=True) if a["name"].startswith(wanted)
    )


def kill_one_replica(app: str, deployment: str) -> str:
    import ray

    names = replica_actor_names(app, deployment)
    assert names, f"no replica of {deployment} to kill"
    ray.kill(ray.get_actor(names[0], namespace="serve"), no_restart=True)
    return names[0]


def wait_app_healthy(app: str, replicas: dict[str, int], timeout_s: float = 180.0) -> None:
    """Until every deployment of ``app`` is HEALTHY with its replica count back (bounded)."""
    from ray import serve

    deadline = time.monotonic() + timeout_s
    state = ""
    while time.monotonic() < deadline:
        status = serve.status().applications.get(app)
        if status is not None:
            deployments = status.deployments
            state = str({name: d.status for name, d in deployments.items()})
            healthy = all(d.status == "HEALTHY" for d in deployments.values())
            counts_ok = all(len(replica_actor_names(app, name)) >= n for name, n in replicas.items())
            if healthy and counts_ok:
                return
        time.sleep(1.0)
    raise AssertionError(f"application {app} did not recover: {state}")
