"""What X-Ray costs at a cold start and per request: core/tracing.py against aws-xray-sdk (docs/performance.md).

Run: ``pip install --target /tmp/xray aws-xray-sdk==2.15.0 --no-deps`` (wrapt is already installed),
then ``XRAY_SDK_PATH=/tmp/xray .venv/bin/python bench/xray_cost.py``. Each import is timed in a fresh
interpreter that has already imported what the app imports anyway (botocore, requests, pymysql), so
the figure is what tracing adds to a cold start. Per request: one annotated subsegment sent over UDP
to a local socket (the daemon), and a ``SELECT 1`` through PyMySQL with and without the SDK's patch
(DATABASE_URL, a MySQL URL, names the server).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDK = os.environ.get("XRAY_SDK_PATH", "/tmp/xray")
RUNS = 7
BASE = "import botocore.session, requests, pymysql, json, socket, secrets"
TRACE = "Root=1-67a1b2c3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"


def fresh(code: str) -> float:
    """Milliseconds the statement takes in a fresh interpreter, after BASE."""
    script = f"{BASE}\nimport time\nt = time.perf_counter()\n{code}\nprint((time.perf_counter() - t) * 1000)"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{SDK}", "LAMBDA_TASK_ROOT": "/tmp", "_X_AMZN_TRACE_ID": TRACE}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def per_call(function, count: int = 5000) -> float:
    """Microseconds per call, median of 5 rounds."""
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(count):
            function()
        rounds.append((time.perf_counter() - started) * 1e6 / count)
    return statistics.median(rounds)


def main() -> None:
    imports = {
        "core.tracing": "import core.tracing",
        "aws_xray_sdk.core": "from aws_xray_sdk.core import xray_recorder",
        "aws_xray_sdk.core + patch(botocore, requests, pymysql)": (
            "from aws_xray_sdk.core import xray_recorder, patch\npatch(('botocore', 'requests', 'pymysql'))"
        ),
    }
    for label, code in imports.items():
        figures = sorted(fresh(code) for _ in range(RUNS))
        print(
            f"import {label}: median {statistics.median(figures):.1f} ms (min {figures[0]:.1f}, max {figures[-1]:.1f})"
        )

    import socket

    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.setblocking(False)
    os.environ.update(
        AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{daemon.getsockname()[1]}", _X_AMZN_TRACE_ID=TRACE, LAMBDA_TASK_ROOT="/tmp"
    )
    sys.path[:0] = [str(ROOT), SDK]
    from core import tracing

    def ours() -> None:
        tracing.record_request(
            request_id="r", user_id="1", route="api/v1/projects/", method="GET", status=200, start=1.0, end=1.01
        )

    def drain() -> None:
        try:
            while True:
                daemon.recv(65536)
        except BlockingIOError:
            pass

    print(f"per request, core.tracing subsegment + UDP send: {per_call(ours):.1f} us")
    drain()

    from aws_xray_sdk.core import xray_recorder

    def sdk() -> None:
        subsegment = xray_recorder.begin_subsegment("django")
        subsegment.put_annotation("request_id", "r")
        subsegment.put_annotation("user_id", "1")
        xray_recorder.end_subsegment()

    print(f"per request, aws-xray-sdk subsegment + annotations + send: {per_call(sdk):.1f} us")
    drain()

    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("mysql"):
        from urllib.parse import urlparse

        import pymysql

        parsed = urlparse(url)

        def connect():
            return pymysql.connect(host=parsed.hostname, port=parsed.port or 3306, user=parsed.username or "root",
                                   password=parsed.password or "")  # fmt: skip

        plain = connect()

        def query(conn=plain) -> None:
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchall()

        print(f"per query, SELECT 1 through PyMySQL: {per_call(query, 2000):.1f} us")
        from aws_xray_sdk.core import patch

        patch(("pymysql",))
        patched = connect()
        print(f"per query, the same with the SDK's pymysql patch: {per_call(lambda: query(patched), 2000):.1f} us")
        drain()


if __name__ == "__main__":
    main()
