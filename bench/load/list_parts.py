"""CPU of each part of the projects list, called directly (no HTTP, no middleware): the round trips
(a bare query, the JWT's user, the throttle's Redis call), the page, the items and the JSON.
Production settings against the load test's database (seeded by bench/load/run.py).

    .venv/bin/python bench/load/list_parts.py [-n 3000]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def bench(name: str, fn: Callable[[], Any], n: int) -> None:
    for _ in range(min(200, n)):
        fn()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        fn()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{name:44} CPU {1e6 * cpu / n:7.1f} µs   wall {1e6 * wall / n:7.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=3000)
    parser.add_argument("--database-url", default="mysql://root:@127.0.0.1:3306/stackpro_load")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "stackpro.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CACHE_KEY_PREFIX": "stackpro-list-parts",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.db import connection
    from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.authentication import JWTAuthentication
    from accounts.models import User
    from core import rawsql
    from core.renderers import JSONRenderer
    from core.throttling import hit
    from projects import selectors
    from projects.serializers import project_rows

    user = User.objects.get(email="load0@example.com")
    n = args.n

    def select_one() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchall()

    bench("round trip: SELECT 1 (Django cursor)", select_one, n)
    bench("round trip: the JWT's user (rawsql.get_by_pk)", lambda: rawsql.get_by_pk(User, user.pk), n)
    bench("round trip: the throttle (core.throttling.hit)", lambda: hit("list-parts", 10**9, 60), n)
    token = str(AccessToken.for_user(user)).encode()
    auth = JWTAuthentication()
    bench("token: verify (simplejwt AccessToken)", lambda: AccessToken(token), n)  # type: ignore[arg-type]
    bench("token: remembered (get_validated_token)", lambda: auth.get_validated_token(token), n)
    page = lambda: selectors.project_page_for_user(user=user, limit=20, offset=0)  # noqa: E731
    bench("page of 20 (project_page_for_user)", page, n)
    total, rows = page()
    bench("items (project_rows)", lambda: project_rows(rows), n)
    body = {"count": total, "next": "http://testserver/api/v1/projects/?limit=20&offset=20", "previous": None}
    body["results"] = project_rows(rows)
    drf_renderer, renderer = DRFJSONRenderer(), JSONRenderer()
    bench("JSON of the page (DRF's JSONRenderer)", lambda: drf_renderer.render(body), n)
    bench("JSON of the page (core.renderers, orjson)", lambda: renderer.render(body), n)


if __name__ == "__main__":
    main()
