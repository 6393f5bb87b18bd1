"""Benchmark GET /api/v1/notifications/unread-count/ — the call the frontend makes most.

Seeds one user with 10,000 notifications (2,000 unread) among 20 other users' 2,000 each, then
measures requests/s and latency, next to /api/v1/health/ (no auth, no query) as the floor of the
same run (absolute figures vary 2x run to run on a shared box; compare ratios).

    .venv/bin/python bench/notifications_unread_count.py                # in-process test client
    .venv/bin/python bench/notifications_unread_count.py --gunicorn     # real gunicorn, HTTP load
    DATABASE_URL=mysql://root:@127.0.0.1:3306/stackpro_notifications \\
        .venv/bin/python bench/notifications_unread_count.py --gunicorn --workers 4 --concurrency 8

It uses (and creates if missing) the same test database pytest reuses, and deletes its rows after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stackpro.settings.test")
os.environ.setdefault("THROTTLE_USER", "100000000/min")  # measure the endpoint, not the throttle
os.environ.setdefault("THROTTLE_ANON", "100000000/min")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

PREFIX = "bench-unread-"


def seed(total: int, unread: int, others: int) -> tuple[object, str]:
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from notifications.models import Notification

    run = uuid.uuid4().hex[:8]
    users = [User.objects.create_user(f"{PREFIX}{run}-{i}@example.com", "x" * 12) for i in range(others + 1)]
    now = timezone.now()
    rows = []
    for index, user in enumerate(users):
        count = total if index == 0 else 2000
        for n in range(count):
            read = index != 0 or n >= unread
            rows.append(Notification(user=user, category="project", title=f"n{n}", read_at=now if read else None))
    Notification.objects.bulk_create(rows, batch_size=2000)
    return users[0], str(AccessToken.for_user(users[0]))


def cleanup() -> None:
    from accounts.models import User

    User.objects.filter(email__startswith=PREFIX).delete()  # cascades to notifications


def summarize(name: str, latencies: list[float], elapsed: float) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return (
        f"{name:<14} {len(ms) / elapsed:8.0f} req/s   mean {statistics.mean(ms):6.2f} ms   "
        f"p50 {statistics.median(ms):6.2f} ms   p95 {p95:6.2f} ms   ({len(ms)} requests)"
    )


def bench_client(token: str, requests: int) -> list[str]:
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    results = []
    for name, path, auth in [
        ("health", "/api/v1/health/", False),
        ("unread-count", "/api/v1/notifications/unread-count/", True),
    ]:
        c = client if auth else APIClient()
        for _ in range(50):
            assert c.get(path).status_code == 200
        latencies = []
        started = time.perf_counter()
        for _ in range(requests):
            t = time.perf_counter()
            response = c.get(path)
            latencies.append(time.perf_counter() - t)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.content
        results.append(summarize(name, latencies, elapsed))
    return results


def _load(url: str, headers: dict[str, str], requests: int, concurrency: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = requests // concurrency

    def worker() -> None:
        mine = []
        for _ in range(per_thread):
            t = time.perf_counter()
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:  # noqa: S310
                r.read()
                assert r.status == 200
            mine.append(time.perf_counter() - t)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started


def bench_gunicorn(token: str, requests: int, workers: int, concurrency: int) -> list[str]:
    from tests.servers import gunicorn

    settings = connection.settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{settings['NAME']}"
    else:
        url = f"mysql://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 3306}/{settings['NAME']}"
    env = {"DATABASE_URL": url, "THROTTLE_USER": "100000000/min", "THROTTLE_ANON": "100000000/min"}
    results = []
    with gunicorn(env, settings="stackpro.settings.test", workers=workers) as base:
        auth = {"Authorization": f"Bearer {token}"}
        for name, path, headers in [
            ("health", "/api/v1/health/", {}),
            ("unread-count", "/api/v1/notifications/unread-count/", auth),
        ]:
            _load(base + path, headers, 200, concurrency)  # warm every worker's connection
            latencies, elapsed = _load(base + path, headers, requests, concurrency)
            results.append(summarize(name, latencies, elapsed))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gunicorn", action="store_true", help="measure a real gunicorn over HTTP")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True)
    from django.test.utils import setup_test_environment

    setup_test_environment()
    cleanup()
    user, token = seed(total=10_000, unread=2_000, others=20)
    try:
        from notifications.selectors import unread_count

        assert unread_count(user=user) == 2000
        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        if args.gunicorn:
            print(f"gunicorn: {args.workers} sync workers, {args.concurrency} client threads")
            lines = bench_gunicorn(token, args.requests, args.workers, args.concurrency)
        else:
            print("in-process DRF test client (one thread)")
            lines = bench_client(token, args.requests)
        print("\n".join(lines))
    finally:
        cleanup()


if __name__ == "__main__":
    main()
