"""The load test: a production-like StackPro on this machine, the stack's floor, and 1,000 users.

    python bench/load/run.py                      # the full run (make load)
    python bench/load/run.py --smoke              # a few users for a few seconds (CI)

It starts, all on loopback: a moto S3 server, a fake Anthropic server with realistic latency, and
gunicorn serving StackPro with production settings on MariaDB and Redis. Then it measures

1. the floor: a bare DRF view (GET /api/v1/health/: no auth, no database) under a closed loop;
2. CPU per request (server processes' CPU time / requests) of the floor and of the authenticated
   projects list (page of 20), so the list's cost is a ratio to the floor that the machine's
   noise does not move much;
3. locust with realistic users (bench/load/locustfile.py), ramped, with stats reset once every user
   is running so the figures cover full load only;

and prints per endpoint requests/s, p50/p95/p99, errors and the p50 ratio to the floor.
"""

from __future__ import annotations

import argparse
import csv
import http.client as httpclient
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.servers import ensure_mysql_database, free_port, http  # noqa: E402

PASSWORD = "load-test-password-2026"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------------------------
# processes
# ------------------------------------------------------------------------------------------------
def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if http("GET", url, timeout=2)[0] < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def wait_tcp(port: int, timeout: float = 20) -> None:
    """The fake Anthropic server answers POST only: wait until it accepts connections."""
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out.extend(int(p) for p in text)
    return out


def cpu_times(pids: list[int]) -> tuple[float, float]:
    """User and system CPU seconds of ``pids`` (all their threads) so far."""
    user = system = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        user += int(fields[11])
        system += int(fields[12])
    return user / CLK_TCK, system / CLK_TCK


class Stack:
    """Everything the load test talks to, started and stopped together."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.procs: list[subprocess.Popen[bytes]] = []
        self.env: dict[str, str] = {}
        self.base = ""
        self.gunicorn: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = self.args
        from moto.server import ThreadedMotoServer

        s3_port = free_port()
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
        self.moto.start()
        anthropic_port = free_port()
        self.procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.fakes.anthropic_server",
                    "--port",
                    str(anthropic_port),
                    "--latency-ms",
                    str(args.anthropic_latency_ms),
                ],
                cwd=ROOT,
            )
        )
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "stackpro.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            # A fresh prefix per run: no throttle counter or cached reply carries over from the last run.
            "CACHE_KEY_PREFIX": f"stackpro-load-{secrets.token_hex(4)}",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_STORAGE_BUCKET_NAME": "stackpro-load",
            "AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
            "ANTHROPIC_API_KEY": "sk-ant-fake-load-test",
            "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{anthropic_port}",
            "STRIPE_API_BASE": "http://127.0.0.1:9",  # never called by the scenario
            "LOG_LEVEL": "WARNING",
            "REQUEST_LOG_LEVEL": "WARNING",
            # Every simulated user comes from 127.0.0.1: per-IP throttles would stop the test itself.
            "THROTTLE_ANON": "1000000/min",
            "THROTTLE_USER": "1000000/min",
            "THROTTLE_LOGIN_IP": "1000000/min",
            "THROTTLE_REGISTER_IP": "1000000/min",
            "LOAD_TEST": "1",
        }
        import boto3

        boto3.client(
            "s3",
            endpoint_url=self.env["AWS_S3_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_bucket(Bucket="stackpro-load")
        manage = [sys.executable, "manage.py"]
        ensure_mysql_database(args.database_url)
        if not args.no_migrate:
            subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env, check=True)
        subprocess.run(
            [*manage, "shell", "-c", SEED_CODE.format(users=args.seeded_users, password=PASSWORD)],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        port = free_port()
        self.gunicorn = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "stackpro.wsgi:application",
                "-c",
                "python:deploy.gunicorn_conf",  # as deployed (JSON bodies for gunicorn's own errors)
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(args.workers),
                "-k",
                "gthread",
                "--threads",
                str(args.threads),
                "--backlog",
                "4096",
                "--keep-alive",
                "30",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )
        self.base = f"http://127.0.0.1:{port}"
        wait_http(f"{self.base}/api/v1/health/")
        wait_tcp(anthropic_port)

    def worker_pids(self) -> list[int]:
        assert self.gunicorn is not None
        return children(self.gunicorn.pid)

    def stop(self) -> None:
        # gunicorn first: its graceful stop lets requests still in flight when locust ends (an
        # assistant send waits on the fake upstream) finish before their upstreams go away.
        for group in ([self.gunicorn], self.procs):
            running = [proc for proc in group if proc is not None]
            for proc in running:
                proc.terminate()
            for proc in running:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.moto.stop()


# Seeded accounts share one password hash (hashing 1,000 Argon2 passwords would take a minute);
# each owns one project and is a member of enough others that a page of 20 is full.
SEED_CODE = """
from bench.load.seed import seed
seed(users={users}, password={password!r})
"""


# ------------------------------------------------------------------------------------------------
# closed-loop measurement (floor and CPU per request)
# ------------------------------------------------------------------------------------------------
def closed_loop(base: str, path: str, headers: dict[str, str], seconds: float, concurrency: int) -> dict[str, Any]:
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        nonlocal errors
        conn = httpclient.HTTPConnection(host, int(port), timeout=30)
        local: list[float] = []
        local_errors = 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    local_errors += 1
            except OSError:
                local_errors += 1
                conn.close()
                conn = httpclient.HTTPConnection(host, int(port), timeout=30)
            local.append(time.perf_counter() - started)
        with lock:
            latencies.extend(local)
            errors += local_errors

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "rps": n / seconds,
        "p50": 1000 * latencies[n // 2] if n else 0.0,
        "p95": 1000 * latencies[int(n * 0.95)] if n else 0.0,
        "errors": errors,
    }


def cpu_per_request(
    stack: Stack, path: str, headers: dict[str, str], seconds: float, concurrency: int
) -> dict[str, Any]:
    pids = stack.worker_pids()
    user, system = cpu_times(pids)
    result = closed_loop(stack.base, path, headers, seconds, concurrency)
    after_user, after_system = cpu_times(pids)
    requests = max(result["requests"], 1)
    result["cpu_ms_per_request"] = 1000 * (after_user - user + after_system - system) / requests
    result["sys_ms_per_request"] = 1000 * (after_system - system) / requests
    return result


def cpu_probes(
    stack: Stack, probes: dict[str, tuple[str, dict[str, str]]], seconds: float, concurrency: int, rounds: int
) -> dict[str, dict[str, Any]]:
    """CPU per request of each probe, in ``rounds`` alternating slices of ``seconds / rounds``: the
    machine's noise (other jobs on the same cores) then falls on every probe alike. Each probe's
    figure is the median of its slices; the whole-run totals are kept too."""
    import statistics

    slices: dict[str, list[dict[str, Any]]] = {name: [] for name in probes}
    for _ in range(rounds):
        for name, (path, headers) in probes.items():
            slices[name].append(cpu_per_request(stack, path, headers, seconds / rounds, concurrency))
    out = {}
    for name, results in slices.items():
        requests = sum(r["requests"] for r in results)
        latencies = [r["p50"] for r in results]
        out[name] = {
            "requests": requests,
            "rps": requests / seconds,
            "p50": statistics.median(latencies),
            "errors": sum(r["errors"] for r in results),
            "cpu_ms_per_request": statistics.median(r["cpu_ms_per_request"] for r in results),
            "cpu_ms_per_slice": [round(r["cpu_ms_per_request"], 3) for r in results],
            "sys_ms_per_request": statistics.median(r["sys_ms_per_request"] for r in results),
        }
    return out


def login(base: str, email: str) -> str:
    status, _, body = http("POST", f"{base}/api/v1/auth/token/", body={"email": email, "password": PASSWORD})
    if status != 200:
        raise RuntimeError(f"login failed: {status} {body}")
    return str(body["access"])


# ------------------------------------------------------------------------------------------------
# locust
# ------------------------------------------------------------------------------------------------
def run_locust(stack: Stack, out: Path) -> list[dict[str, Any]]:
    args = stack.args
    ramp_seconds = args.users / args.spawn_rate
    duration = int(ramp_seconds + args.full_load + 5)
    prefix = out / "locust"
    env = {
        **os.environ,
        "LOAD_SEEDED_USERS": str(args.seeded_users),
        "LOAD_PASSWORD": PASSWORD,
        "LOAD_WAIT_MIN": str(args.wait_min),
        "LOAD_WAIT_MAX": str(args.wait_max),
        "LOAD_AUTH_STATS": str(out / "auth_stats.json"),
        "LOAD_EVERY_TASK_ONCE": "1" if args.smoke else "0",
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "bench/load/locustfile.py"),
            "--headless",
            "-u",
            str(args.users),
            "-r",
            str(args.spawn_rate),
            "-t",
            f"{duration}s",
            "--reset-stats",
            "--host",
            stack.base,
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
            # A smoke run ends when its time is up and every user has finished what it started (its
            # every-task-once start: on a slow machine the time ran out in the middle of it).
            *(["--stop-timeout", "120"] if args.smoke else []),
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    rows = []
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            rows.append(row)
    return rows


def whole_run(out: Path) -> dict[str, Any]:
    """What the locustfile recorded over the whole run, ramp included (see LOAD_AUTH_STATS)."""
    path = out / "auth_stats.json"
    return json.loads(path.read_text()) if path.exists() else {"samples": {}, "requests": {}, "errors": {}}


def auth_rows(data: dict[str, Any], seconds: float) -> list[dict[str, Any]]:
    """Login and register figures over the whole run (they happen while users are spawned)."""
    rows = []
    for name, samples in data["samples"].items():
        samples.sort()
        n = len(samples)
        if not n:
            continue
        rows.append(
            {
                "name": name,
                "requests": n,
                "rps": n / seconds,
                "p50": samples[n // 2],
                "p95": samples[min(n - 1, int(n * 0.95))],
                "p99": samples[min(n - 1, int(n * 0.99))],
                "errors": int(data["errors"].get(name, 0)),
            }
        )
    return rows


def fmt_row(
    name: str, rps: float, p50: float, p95: float, p99: float, errors: int, requests: int, floor_p50: float
) -> str:
    ratio = p50 / floor_p50 if floor_p50 else 0.0
    return f"{name:<30} {requests:>8} {rps:>8.1f} {p50:>7.0f} {p95:>7.0f} {p99:>7.0f} {errors:>6} {ratio:>7.1f}x"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--full-load", type=int, default=60, help="seconds at full load")
    parser.add_argument("--seeded-users", type=int, default=1000)
    parser.add_argument("--wait-min", type=float, default=3)
    parser.add_argument("--wait-max", type=float, default=9)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--probe-seconds", type=float, default=10)
    parser.add_argument("--probe-clients", type=int, default=8, help="closed-loop clients of the CPU probes")
    parser.add_argument("--probe-rounds", type=int, default=10, help="alternating slices per CPU probe")
    parser.add_argument("--anthropic-latency-ms", type=int, default=800)
    parser.add_argument(
        "--database-url", default=os.environ.get("LOAD_DATABASE_URL", "mysql://root:@127.0.0.1:3306/stackpro_load")
    )
    parser.add_argument("--redis-url", default=os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/13"))
    parser.add_argument("--out", default=str(ROOT / "build" / "load"))
    parser.add_argument("--smoke", action="store_true", help="a few users for a few seconds")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--no-migrate", action="store_true", help="the database is already migrated (CI copy)")
    parser.add_argument(
        "--probe-only", action="store_true", help="only the floor and the list's CPU per request (no locust)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.users, args.spawn_rate, args.full_load, args.seeded_users = 5, 5, 5, 25
        args.wait_min, args.wait_max, args.probe_seconds, args.anthropic_latency_ms = 0.1, 0.5, 2, 50
        args.probe_rounds = 2
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)

    stack = Stack(args)
    try:
        stack.start()
        token = login(stack.base, "load0@example.com")
        auth = {"Authorization": f"Bearer {token}"}
        probes = cpu_probes(
            stack,
            {"floor": ("/api/v1/health/", {}), "list": ("/api/v1/projects/?limit=20", auth)},
            args.probe_seconds,
            args.probe_clients,
            args.probe_rounds,
        )
        floor, listing = probes["floor"], probes["list"]
        rows = [] if args.probe_only else run_locust(stack, out)
    finally:
        stack.stop()

    cpu_ratio = listing["cpu_ms_per_request"] / floor["cpu_ms_per_request"]
    print()
    print(
        f"Machine: {os.cpu_count()} cores; gunicorn {args.workers} workers x {args.threads} threads; "
        f"{args.users} users, ramp {args.spawn_rate}/s, {args.full_load}s at full load"
    )
    print()
    print(
        f"CPU per request (server processes' CPU time / requests, closed loop of {args.probe_clients} clients, "
        f"median of {args.probe_rounds} alternating slices):"
    )
    print(
        f"  floor  GET /api/v1/health/              {floor['cpu_ms_per_request']:.2f} ms  "
        f"(of it system {floor['sys_ms_per_request']:.2f} ms; {floor['rps']:.0f} req/s, "
        f"p50 {floor['p50']:.1f} ms, errors {floor['errors']})"
    )
    print(
        f"  list   GET /api/v1/projects/?limit=20   {listing['cpu_ms_per_request']:.2f} ms  "
        f"(of it system {listing['sys_ms_per_request']:.2f} ms; {listing['rps']:.0f} req/s, "
        f"p50 {listing['p50']:.1f} ms, errors {listing['errors']})"
    )
    print(f"  ratio  {cpu_ratio:.2f}x the floor (target <= 3x)")
    print(f"  slices floor {floor['cpu_ms_per_slice']}")
    print(f"  slices list  {listing['cpu_ms_per_slice']}")
    if args.probe_only:
        return 0
    print()
    print(f"Locust at full load (stats reset after the ramp; floor p50 {floor['p50']:.1f} ms):")
    print(
        f"{'endpoint':<30} {'requests':>8} {'req/s':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'errors':>6} {'p50/floor':>8}"
    )
    total_errors = 0
    summary = []
    for row in rows:
        name = row["Name"]
        if name.startswith("auth:"):
            continue  # reported below over the whole run
        requests = int(row["Request Count"])
        failures = int(row["Failure Count"])
        total_errors += failures if name != "Aggregated" else 0
        p50, p95, p99 = (float(row[k] or 0) for k in ("50%", "95%", "99%"))
        print(fmt_row(name, float(row["Requests/s"]), p50, p95, p99, failures, requests, floor["p50"]))
        summary.append(
            {
                "name": name,
                "requests": requests,
                "rps": float(row["Requests/s"]),
                "p50": p50,
                "p95": p95,
                "p99": p99,
                "errors": failures,
            }
        )
    run = whole_run(out)
    ramp = args.users / args.spawn_rate
    auth = auth_rows(run, ramp)
    print()
    print(f"Sign-ins over the whole run (they happen as users start, ~{args.spawn_rate:g}/s during the ramp):")
    for r in auth:
        print(fmt_row(r["name"], r["rps"], r["p50"], r["p95"], r["p99"], r["errors"], r["requests"], floor["p50"]))
    send = next((r for r in summary if r["name"] == "assistant:send"), None)
    if send:
        print()
        print(
            f"assistant:send over the fake upstream's {args.anthropic_latency_ms} ms: "
            f"p50 +{send['p50'] - args.anthropic_latency_ms:.0f} ms, p95 +{send['p95'] - args.anthropic_latency_ms:.0f} ms"
        )
    ramp_errors = sum(run["errors"].values())
    print()
    print(
        f"whole run, ramp included: {sum(run['requests'].values())} requests, {ramp_errors} errors "
        f"{run['errors'] or ''}"
    )
    total_errors = max(total_errors, ramp_errors)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "floor": floor,
                    "list": listing,
                    "cpu_ratio": cpu_ratio,
                    "endpoints": summary,
                    "auth": auth,
                    "whole_run": {"requests": run["requests"], "errors": run["errors"]},
                    "errors": total_errors,
                },
                indent=2,
            )
        )
    slow = [
        r["name"]
        for r in summary
        if r["name"] not in ("Aggregated", "auth:login", "auth:register", "assistant:send") and r["p95"] > 200
    ]
    print()
    print(
        f"errors: {total_errors}; endpoints with p95 > 200 ms (excluding login/register/assistant send): {slow or 'none'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
