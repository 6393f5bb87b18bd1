"""Where the projects list's CPU goes: N in-process requests through the whole middleware stack,
production settings, MariaDB and Redis (the load test's database, seeded by run.py), under cProfile.

    .venv/bin/python bench/load/profile_list.py -n 500 [--path /api/v1/health/] [--sort tottime]
    .venv/bin/python bench/load/profile_list.py -n 2000 --compare   # no profiler: floor vs list, in-process
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--path", default="/api/v1/projects/?limit=20")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--database-url", default="mysql://root:@127.0.0.1:3306/stackpro_load")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--run-only", action="store_true", help="just N requests (for bench/load/instructions.py)")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="no profiler: CPU per request of the floor and of --path, interleaved, and their ratio",
    )
    args = parser.parse_args()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "stackpro.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "testserver,127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CACHE_KEY_PREFIX": "stackpro-profile",
            "LOG_LEVEL": "WARNING",
            "REQUEST_LOG_LEVEL": "WARNING",
            "THROTTLE_USER": "1000000/min",
        }
    )
    import django

    django.setup()
    from django.test import Client
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User

    user = User.objects.get(email="load0@example.com")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    for _ in range(20):  # warm up: imports, connections
        assert client.get(args.path).status_code == 200
    if args.compare:
        compare(client, args.path, args.n)
        return
    if args.run_only:
        for _ in range(args.n):
            client.get(args.path)
        return
    profile = cProfile.Profile(time.process_time)  # CPU, not wall: the machine is shared
    cpu = time.process_time()
    profile.enable()
    for _ in range(args.n):
        client.get(args.path)
    profile.disable()
    cpu = time.process_time() - cpu
    print(f"{args.path}: {1000 * cpu / args.n:.2f} ms CPU per request (under cProfile, which inflates it)")
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    if os.environ.get("PROFILE_OUT"):
        profile.dump_stats(os.environ["PROFILE_OUT"])


def compare(client, path: str, n: int, floor: str = "/api/v1/health/") -> None:
    """In-process CPU per request (no server, no network): rounds of 50 requests of each path,
    alternated so the machine's noise falls on both alike."""
    for _ in range(20):
        assert client.get(floor).status_code == 200
    spent = {floor: 0.0, path: 0.0}
    for _ in range(max(n // 50, 1)):
        for target in (floor, path):
            started = time.process_time()
            for _ in range(50):
                client.get(target)
            spent[target] += time.process_time() - started
    count = max(n // 50, 1) * 50
    floor_ms, path_ms = (1000 * spent[p] / count for p in (floor, path))
    print(f"in-process CPU per request over {count} requests each (no WSGI server, no sockets):")
    print(f"  floor {floor}: {floor_ms:.3f} ms")
    print(f"  {path}: {path_ms:.3f} ms")
    print(f"  ratio {path_ms / floor_ms:.2f}x")


if __name__ == "__main__":
    main()
