"""Property-based fuzzing of the running gateway from its own ``/openapi.json`` (schemathesis).

Not a pytest test. Every operation gets generated requests (valid and invalid by the schema) and
every answer is checked: no 5xx other than 503 (a dependency down, with Retry-After), errors in our
JSON shape, no secret or traceback in any body or header, no request slower than the bound.

    .venv/bin/python -m benchmarks.fuzz_api                  # starts moto + emulator + Serve here
    .venv/bin/python -m benchmarks.fuzz_api --url http://127.0.0.1:8888 [--api-key KEY]
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter

SLOW_S = 30.0


def start_service() -> tuple[str, list]:
    """moto_server, the vivo emulator and the app, as the integration tests run them."""
    from tests.emulator.vivo_emulator import VivoEmulator
    from tests.integration.conftest import TEST_APP_ID, TEST_APP_KEY

    emulator = VivoEmulator(app_id=TEST_APP_ID, app_key=TEST_APP_KEY).start()
    os.environ.update({"VIVO_BASE_URL": emulator.base_url, "APPID": TEST_APP_ID, "APPKEY": TEST_APP_KEY})
    from benchmarks.load_test import start_service as start_app

    url, s3 = start_app(
        extra_env={"VIVO_BASE_URL": emulator.base_url, "APPID": TEST_APP_ID, "APPKEY": TEST_APP_KEY}
    )
    return url, [emulator, s3]


def secrets_to_watch() -> list[str]:
    names = ("AWS_SECRET_ACCESS_KEY", "APPKEY", "HF_WHISPERX")
    return [os.environ[n] for n in names if len(os.environ.get(n, "")) >= 8]


class Findings:
    def __init__(self, secrets: list[str]):
        self.secrets = secrets
        self.tried = 0
        self.codes: Counter[int] = Counter()
        self.failures: list[str] = []
        self.slowest = 0.0

    def check(self, case, response, elapsed: float) -> None:
        self.tried += 1
        self.codes[response.status_code] += 1
        self.slowest = max(self.slowest, elapsed)
        where = f"{case.method} {case.formatted_path}"
        text = bytes(response.content or b"").decode("utf-8", "replace")  # WAV answers are binary
        blob = text + str(dict(response.headers))
        if response.status_code >= 500 and response.status_code != 503:
            self.failures.append(f"{where} -> {response.status_code}: {text[:200]}")
        if response.status_code == 503 and "retry-after" not in {k.lower() for k in response.headers}:
            self.failures.append(f"{where} -> 503 without Retry-After")
        if response.status_code >= 400 and "json" in str(response.headers.get("content-type", "")):
            body = response.json()
            if not (isinstance(body, dict) and body.get("success") is False and body.get("error")):
                self.failures.append(
                    f"{where} -> {response.status_code} not in our error shape: {text[:200]}"
                )
        if any(s in blob for s in self.secrets) or "Traceback (most recent call last)" in blob:
            self.failures.append(f"{where} -> leaked a secret or a traceback")
        if elapsed > SLOW_S:
            self.failures.append(f"{where} took {elapsed:.1f} s")


def fuzz(url: str, examples: int, api_key: str | None, findings: Findings) -> None:
    import hypothesis
    import schemathesis
    from hypothesis import HealthCheck, Phase

    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    settings = hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        derandomize=True,
    )
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in ("/bluelm/chat/stream",):  # SSE: covered by its own tests
            continue

        @settings
        @hypothesis.given(case=operation.as_strategy())
        def run(case) -> None:
            started = time.monotonic()
            response = case.call(base_url=url, headers=headers, timeout=SLOW_S + 30)
            findings.check(case, response, time.monotonic() - started)

        try:
            run()
        except Exception as exc:  # a client-side error: count it, keep fuzzing the rest
            findings.failures.append(
                f"{operation.method.upper()} {operation.path}: {type(exc).__name__}: {exc}"[:300]
            )
        print(
            f"  {operation.method.upper():6} {operation.path}: {findings.tried} requests so far", flush=True
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running gateway (default: start one here)")
    parser.add_argument("--api-key", default=os.environ.get("AURALAB_API_KEY"))
    parser.add_argument("--examples", type=int, default=25, help="generated requests per operation")
    args = parser.parse_args()
    if args.url and not args.url.startswith(("http://127.", "http://localhost")):
        parser.error("loopback only: --url must be http://127.x or http://localhost")
    services: list = []
    url = args.url
    if not url:
        url, services = start_service()
    findings = Findings(secrets_to_watch())
    started = time.monotonic()
    try:
        fuzz(url, args.examples, args.api_key, findings)
    finally:
        if services:
            from ray import serve

            serve.shutdown()
            for service in services:
                service.stop()
    print("\n=== fuzz ===")
    print(
        f"requests {findings.tried} in {time.monotonic() - started:.0f} s; "
        f"status codes {dict(sorted(findings.codes.items()))}"
    )
    print(f"slowest {findings.slowest:.2f} s; failures {len(findings.failures)}")
    for failure in findings.failures[:30]:
        print("  FAIL", failure)
    return 1 if findings.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
