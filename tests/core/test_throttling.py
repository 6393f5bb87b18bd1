"""Throttles: shared-cache counters, Retry-After, and client IPs that cannot be spoofed."""

import os
import subprocess
import sys

import pytest
import redis
from django.conf import settings as django_settings
from django.test import RequestFactory

from core.throttling import client_ip, hit, parse_rate
from tests.support import assert_api_error, wait_for_fresh_window

pytestmark = [pytest.mark.urls("tests.core.urls"), pytest.mark.django_db]


@pytest.fixture
def burst_rate(settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "test_burst": "3/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def test_parse_rate():
    assert parse_rate("10/min") == (10, 60)
    assert parse_rate("5/15m") == (5, 900)
    assert parse_rate("100/day") == (100, 86400)
    assert parse_rate("2/s") == (2, 1)


def test_burst_gets_429_with_retry_after(api_client, burst_rate):
    for _ in range(3):
        assert api_client.get("/api/v1/test/throttled/").status_code == 200
    response = api_client.get("/api/v1/test/throttled/")
    assert_api_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60


def test_x_forwarded_for_cannot_pick_a_new_identity(api_client, burst_rate, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    for n in range(3):
        api_client.get("/api/v1/test/throttled/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    response = api_client.get("/api/v1/test/throttled/", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429


def test_client_ip_behind_configured_proxies(settings):
    factory = RequestFactory()
    request = factory.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4", REMOTE_ADDR="10.0.0.1")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    assert client_ip(request) == "10.0.0.1"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    # The spoofed first entry is ignored: the one proxy we trust appended the real client.
    assert client_ip(request) == "1.2.3.4"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 2}
    assert client_ip(request) == "6.6.6.6"


def test_hit_counts_atomically_in_one_window():
    results = [hit("unit:key", 5, 60)[0] for _ in range(7)]
    assert results == [True] * 5 + [False] * 2


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_limit_holds_across_processes_sharing_redis():
    """Two other processes and this one share one counter through Redis."""
    assert "redis" in django_settings.CACHES["default"]["BACKEND"].lower()
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='stackpro.settings.test'; django.setup();"
        "from core.throttling import hit; print(sum(hit('xproc:key', 10, 60)[0] for _ in range(6)))"
    )
    env = {**os.environ}
    wait_for_fresh_window(60)
    outs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        for _ in range(2)
    ]
    allowed_elsewhere = sum(int(o.stdout.strip().splitlines()[-1]) for o in outs)
    allowed_here = sum(hit("xproc:key", 10, 60)[0] for _ in range(6))
    assert allowed_elsewhere + allowed_here == 10


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_the_redis_window_counter_counts_and_expires_with_its_window():
    from django.core.cache import cache

    key = f"unit:window:{os.getpid()}"
    assert [cache.count_in_window(key, 90) for _ in range(3)] == [1, 2, 3]
    raw = cache.client.get_client(write=True)
    assert 85 <= raw.ttl(cache.make_key(key)) <= 90  # set by the first count, not moved by the next
    assert cache.get(key) == 3  # the counter itself
    raw.script_flush()  # a Redis restarted without its scripts: loaded again, not an error
    assert cache.count_in_window(key, 90) == 4


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_the_window_counter_survives_redis_closing_its_connection():
    """The counter keeps one connection per thread: one the server closed is replaced, no error."""
    from django.core.cache import cache

    key = f"unit:window-kill:{os.getpid()}"
    assert cache.count_in_window(key, 60) == 1
    host, port = cache._local.counter._sock.getsockname()[:2]
    assert cache.client.get_client(write=True).client_kill(f"{host}:{port}")
    assert cache.count_in_window(key, 60) == 2
    assert cache.available


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_disconnect_closes_every_socket_and_the_next_calls_reconnect():
    """Before a SnapStart snapshot (stackpro/lambda_app.py): no socket to Redis may survive into the
    copies; the cache and the counter open new ones on their next use."""
    from django.core.cache import cache

    key = f"unit:window-disconnect:{os.getpid()}"
    assert cache.count_in_window(key, 60) == 1
    cache.set(f"{key}:plain", "x", 60)
    counter_port = cache._local.counter._sock.getsockname()[1]
    admin = redis.Redis.from_url(os.environ["REDIS_URL"])
    ours = {c["id"] for c in admin.client_list() if c["addr"].endswith(f":{counter_port}")}
    assert ours

    cache.disconnect()
    ids = {c["id"] for c in admin.client_list()}
    assert not ours & ids  # the counter's socket is gone from the server's side
    assert getattr(cache._local, "counter", None) is None
    assert all(not pool_client for pool_client in cache._client._clients)  # the pool's clients dropped

    assert cache.count_in_window(key, 60) == 2 and cache.get(f"{key}:plain") == "x"
    assert cache._local.counter._sock.getsockname()[1] != counter_port
