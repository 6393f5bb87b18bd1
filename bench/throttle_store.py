"""Cost of one throttle hit (what every API request pays once) in each store of core/throttling.py.

Prints the median and p95 wall time of ``core.throttling.hit`` over ``--hits`` calls, spread over
``--keys`` clients, with THROTTLE_STORE="database" (the ThrottleCounter table: one INSERT … ON
DUPLICATE KEY UPDATE) and with THROTTLE_STORE="cache" on Redis (one EVALSHA), and the difference:
what a request costs more on Lambda without Redis than on a server with it.

    .venv/bin/python bench/throttle_store.py [--hits N] [--keys K]
        [--database-url mysql://root:@127.0.0.1:3306/stackpro_bench] [--redis-url redis://127.0.0.1:6379/15]

The database gets only the ThrottleCounter table (created if missing; its rows are deleted at the
end). The Redis database is used for throttle keys only and is not flushed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hits", type=int, default=3000)
    parser.add_argument("--keys", type=int, default=100)
    parser.add_argument("--database-url", default="mysql://root:@127.0.0.1:3306/stackpro_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    return parser.parse_args()


def measure(hit, hits: int, keys: int) -> tuple[float, float]:
    """(median µs, p95 µs) of one hit."""
    for n in range(keys):  # warm-up: connections open, every key's row or counter exists
        hit(f"bench:{n}", 10**9, 3600)
    samples = []
    for n in range(hits):
        started = time.perf_counter()
        hit(f"bench:{n % keys}", 10**9, 3600)
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95)]


def main() -> None:
    args = parse()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="stackpro.settings.test", DATABASE_URL=args.database_url, REDIS_URL=args.redis_url
    )
    from tests.servers import ensure_mysql_database

    ensure_mysql_database(args.database_url)
    import django

    django.setup()
    from django.db import connection
    from django.test import override_settings

    from core.models import ThrottleCounter
    from core.throttling import hit

    if ThrottleCounter._meta.db_table not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(ThrottleCounter)
    print(f"{args.hits} hits over {args.keys} keys; {connection.vendor} ({connection.settings_dict['NAME']}), Redis")
    results = {}
    for store in ("database", "cache"):
        with override_settings(THROTTLE_STORE=store):
            results[store] = measure(hit, args.hits, args.keys)
        median, p95 = results[store]
        print(f"  THROTTLE_STORE={store:9s} median {median:7.1f} µs   p95 {p95:7.1f} µs")
    print(f"  database - Redis: {results['database'][0] - results['cache'][0]:+.1f} µs per request (median)")
    ThrottleCounter.objects.filter(bucket__startswith="throttle:").delete()


if __name__ == "__main__":
    main()
