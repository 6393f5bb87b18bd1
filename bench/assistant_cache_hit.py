"""Latency of a send answered from the response cache (no upstream call), through the whole stack.

Each iteration POSTs the same first message to a fresh conversation through DRF's test client:
JWT authentication, the view, the service (rate limit, scope check, cache lookup, two inserts, usage
counter) and the serializer — everything but the HTTP server. One warm-up send goes to the fake
Anthropic server; the script checks that no later send reached it.

    .venv/bin/python bench/assistant_cache_hit.py [-n 300]
    DATABASE_URL=mysql://root:@127.0.0.1:3306/stackpro REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/assistant_cache_hit.py

Uses (or creates) the test database of ``stackpro.settings.test`` and removes what it wrote.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stackpro.settings.test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="measured sends")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, keepdb=True)

    from assistant.models import Conversation
    from tests.conftest import client_for
    from tests.factories import UserFactory
    from tests.fakes.anthropic_server import FakeAnthropic

    fake = FakeAnthropic(latency_ms=800).start()
    settings.ANTHROPIC_API_KEY = "sk-ant-bench"
    settings.ANTHROPIC_BASE_URL = fake.url
    settings.ASSISTANT_SEND_RATE = "100000/min"
    user = UserFactory(email=f"bench-{uuid.uuid4().hex[:8]}@example.com")
    client = client_for(user)
    question = {"content": f"What does the bench measure? {uuid.uuid4()}"}

    cpu: list[float] = []

    def send() -> tuple[float, dict]:
        conversation = Conversation.objects.create(user=user)
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.post(f"/api/v1/assistant/conversations/{conversation.pk}/messages/", question, format="json")
        elapsed = (time.perf_counter() - started) * 1000
        cpu.append((time.process_time() - cpu_started) * 1000)
        assert response.status_code == 201, response.content
        return elapsed, response.json()

    try:
        warm_ms, first = send()
        assert first["cached"] is False
        for _ in range(20):  # warm connections and code paths
            send()
        timings = []
        cpu.clear()
        for _ in range(args.n):
            elapsed, body = send()
            assert body["cached"] is True
            timings.append(elapsed)
        assert fake.calls == 1, f"{fake.calls} upstream calls"
    finally:
        fake.stop()
        user.delete()

    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    db = connection.vendor
    cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(f"assistant cache-hit send ({db}, {cache_backend}), n={len(timings)}")
    print(f"  first send (fake upstream, 800 ms latency): {warm_ms:.1f} ms")
    print(f"  cache hit: median {statistics.median(timings):.2f} ms, p95 {p95:.2f} ms, max {timings[-1]:.2f} ms")
    print(f"  CPU of this process per send: median {statistics.median(cpu):.2f} ms (wall time above includes waiting")
    print(f"  for the database, the cache and, on a busy machine, the CPU; load average {os.getloadavg()[0]:.1f})")
    print("  upstream calls after warm-up: 0")


if __name__ == "__main__":
    main()
