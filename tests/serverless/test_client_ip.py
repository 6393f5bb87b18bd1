"""On Lambda the client's address is the one API Gateway saw, never X-Forwarded-For (core/lambda_handler.py).

Zappa makes REMOTE_ADDR the second-to-last X-Forwarded-For entry, which the client writes itself
on a regional endpoint: with it, a forged header per attempt would get past every per-IP limit.
Through the packaged handler, with REST (v1) and HTTP API (v2) events: login attempts from one
source address, each carrying a different forged header, meet the per-IP login limit.
"""

from __future__ import annotations

import json
import random
import uuid

import pytest

from tests.serverless.packaged import LAMBDA_ENV, packaged_env, run_driver, write_settings

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def an_address() -> str:
    return f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"  # noqa: S311 (a test address)


def test_forged_x_forwarded_for_does_not_escape_the_per_ip_limit(
    package_dir,
    runtime_dir,
    runtime_python,
    moto_endpoint,
    tmp_path,
):
    write_settings(package_dir, tmp_path, packaged_env(package_dir, moto_endpoint, {"THROTTLE_LOGIN_IP": "3/5m"}))
    attempt = {"email": f"nobody-{uuid.uuid4().hex[:8]}@example.com", "password": "wrong-password"}
    plan: list[dict] = [{"event": {"manage": "migrate --noinput"}}]
    sources = {}
    for version in ("1.0", "2.0"):
        sources[version] = source = an_address()
        for _ in range(4):
            forged = f"{an_address()}, {an_address()}"  # a new "client" per attempt, as an attacker would
            plan.append(
                {
                    "http": {
                        "method": "POST",
                        "path": "/api/v1/auth/token/",
                        "body": attempt,
                        "headers": {"X-Forwarded-For": forged},
                        "source_ip": source,
                        "version": version,
                    }
                }
            )
    plan.append({"http": {"method": "POST", "path": "/api/v1/auth/token/", "body": attempt, "source_ip": an_address()}})
    report, _ = run_driver(runtime_python, package_dir, runtime_dir, tmp_path, plan, LAMBDA_ENV)
    steps = report["results"]
    assert all(step["ok"] for step in steps), json.dumps([s for s in steps if not s["ok"]], indent=2)[:3000]
    statuses = [step["status"] for step in steps[1:]]
    # REST: three wrong passwords answered, the fourth refused; the same from another address over
    # the HTTP API; a third address is not affected by either.
    assert statuses == [401, 401, 401, 429] * 2 + [401], statuses
    assert steps[4]["body"]["code"] == "throttled"
