"""Benchmark: the authenticated projects list (a page of 20) under load.

Builds a database with one user who belongs to 43 projects (3 owned, 40 shared, 3 members each),
starts a real gunicorn (tests/servers.py) and sends GET /api/v1/projects/?limit=20 with a JWT from
several client threads; prints requests/s and per-request latency. ``--mode client`` measures the
same request in-process through Django's test client (no HTTP server).

    .venv/bin/python bench/projects_list.py                           # SQLite file in /tmp
    DATABASE_URL=mysql://root:@127.0.0.1:3306/stackpro_projects .venv/bin/python bench/projects_list.py
    .venv/bin/python bench/projects_list.py --requests 2000 --concurrency 8 --workers 4
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_database(env: dict[str, str]) -> str:
    """Migrate, seed, return an access token."""
    from tests.servers import ensure_mysql_database

    os.environ.update(env)
    ensure_mysql_database(os.environ.get("DATABASE_URL", ""))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    import django

    django.setup()
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User
    from projects.models import Membership, Project, Role

    user, _ = User.objects.get_or_create(email="bench@example.com", defaults={"name": "Bench"})
    if not Membership.objects.filter(user=user).exists():
        others = [
            User.objects.get_or_create(email=f"bench{n}@example.com", defaults={"name": f"B{n}"})[0] for n in range(40)
        ]
        for n in range(3):
            project = Project.objects.create(owner=user, name=f"Mine {n}", description="bench")
            Membership.objects.create(project=project, user=user, role=Role.OWNER)
        for n, other in enumerate(others):
            project = Project.objects.create(owner=other, name=f"Shared {n}", description="bench")
            Membership.objects.create(project=project, user=other, role=Role.OWNER)
            Membership.objects.create(project=project, user=user, role=Role.EDITOR if n % 2 else Role.VIEWER)
            Membership.objects.create(project=project, user=others[(n + 1) % 40], role=Role.VIEWER)
    return str(RefreshToken.for_user(user).access_token)


def hammer(call, total: int, concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    remaining = [total]

    def worker() -> None:
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            started = time.perf_counter()
            status = call()
            elapsed = (time.perf_counter() - started) * 1000
            if status != 200:
                raise RuntimeError(f"status {status}")
            with lock:
                latencies.append(elapsed)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies


def report(label: str, wall: float, latencies: list[float]) -> None:
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"{label}: {len(latencies)} requests in {wall:.2f} s = {len(latencies) / wall:.0f} req/s; "
        f"per request mean {statistics.mean(latencies):.1f} ms, p50 {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["gunicorn", "client"], default="gunicorn")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    env = {
        "DJANGO_SETTINGS_MODULE": "stackpro.settings.test",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:////tmp/stackpro-bench-projects.sqlite3"),
        "THROTTLE_USER": "100000000/min",  # measure the view, not the throttle
        "DB_READ_TIMEOUT": "30",
    }
    token = setup_database(env)
    url_path = "/api/v1/projects/?limit=20"
    print(f"database: {env['DATABASE_URL'].split('@')[-1]}; {args.requests} requests, concurrency {args.concurrency}")

    if args.mode == "client":
        from rest_framework.test import APIClient

        clients = threading.local()

        def call() -> int:
            if not hasattr(clients, "c"):
                clients.c = APIClient()
                clients.c.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            response = clients.c.get(url_path)
            assert len(response.json()["results"]) == 20
            return response.status_code

        hammer(call, 50, 1)  # warm-up
        report("test client (in-process)", *hammer(call, args.requests, args.concurrency))
        return

    from tests.servers import gunicorn

    with gunicorn(env, settings="stackpro.settings.test", workers=args.workers) as base:

        def getter(path: str, headers: dict[str, str]):
            def call() -> int:
                request = urllib.request.Request(base + path, headers=headers)
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                    return response.status

            return call

        projects = getter(url_path, {"Authorization": f"Bearer {token}"})
        health = getter("/api/v1/health/", {})  # a bare DRF view: the same run's floor, for a ratio
        hammer(projects, 50, args.concurrency)  # warm-up: connections, imports
        report(
            f"projects list, gunicorn ({args.workers} sync workers)", *hammer(projects, args.requests, args.concurrency)
        )
        report("health (baseline, same server)", *hammer(health, args.requests, args.concurrency))


if __name__ == "__main__":
    main()
