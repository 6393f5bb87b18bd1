"""Redis down: the API keeps serving (cache misses, throttles open, logged), readiness says so, and
tasks published to a dead broker run inline or are refused with a clear 503 (TASK_BROKER_DOWN).

The in-process tests point the cache and the broker at a closed loopback port (no Redis needed); the
server test puts a breakable proxy between a real gunicorn and the real Redis (needs REDIS_URL).
"""

import logging
import os
import statistics
import time
from urllib.parse import urlsplit

import pytest
from celery import Celery

from core.cache import CacheUnavailable, ResilientRedisCache
from core.tasks import ResilientTask, TaskQueueUnavailable, enqueue
from core.throttling import hit
from tests.fuzz.harness import pytest_database_url
from tests.servers import free_port, gunicorn, http
from tests.support import assert_api_error
from tests.support.tcp_proxy import FaultyProxy
from tests.timing import assert_within, baseline

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL")


def dead_redis_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there


# ------------------------------------------------------------------------------------------------
# The cache backend
# ------------------------------------------------------------------------------------------------
def test_a_dead_redis_reads_as_misses_and_counters_raise(caplog):
    cache = ResilientRedisCache(dead_redis_url(), {"OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1}})
    with caplog.at_level(logging.WARNING, logger="core.cache"):
        assert cache.get("k", "default") == "default"
        assert cache.set("k", 1) is None
        assert cache.add("k", 1) is None
        assert cache.get_many(["a", "b"]) == {}
        with pytest.raises(CacheUnavailable):
            cache.incr("k")
        with pytest.raises(CacheUnavailable):
            cache.count_in_window("k", 60)  # the throttles' counter: the breaker is open already
    # One warning when the breaker opens, not one per call.
    warnings = [r for r in caplog.records if r.name == "core.cache"]
    assert len(warnings) == 1 and "cache unavailable" in warnings[0].getMessage()
    assert not cache.available


def test_the_window_counter_opens_the_breaker_on_a_dead_redis(caplog):
    cache = ResilientRedisCache(dead_redis_url(), {"OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1}})
    with caplog.at_level(logging.WARNING, logger="core.cache"), pytest.raises(CacheUnavailable):
        cache.count_in_window("k", 60)
    assert not cache.available
    assert [r.getMessage() for r in caplog.records if r.name == "core.cache"][0].startswith("cache unavailable")


def test_the_breaker_spares_the_timeout_until_it_closes(monkeypatch):
    cache = ResilientRedisCache(dead_redis_url(), {"OPTIONS": {"CIRCUIT_BREAKER_SECONDS": 30}})
    cache.get("k")
    calls = []
    monkeypatch.setattr(type(cache.client._client), "get", lambda *a, **kw: calls.append(a))
    assert cache.get("k") is None
    assert calls == []  # the breaker answered without touching Redis


@pytest.fixture
def dead_cache(settings):
    settings.THROTTLE_STORE = "cache"  # the counters on that Redis (the default only where REDIS_URL is set)
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": dead_redis_url(),
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }


@pytest.mark.urls("tests.resilience.urls")
@pytest.mark.django_db
def test_the_api_keeps_serving_without_its_cache(dead_cache, api_client, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "1/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    for _ in range(3):  # above the anon rate: throttles let requests through while the cache is down
        response = api_client.get("/api/v1/test-resilience/cached/")
        assert response.status_code == 200 and response.json() == {"cached_hits": 0}
    assert hit("any", 1, 60) == (True, 0)
    response = api_client.get("/api/v1/health/ready/")
    body = assert_api_error(response, 503, "service_unavailable")
    assert body["checks"] == {"database": "ok", "cache": "unavailable"}
    assert api_client.get("/api/v1/health/").status_code == 200


@pytest.mark.redis
@pytest.mark.slow
@needs_redis
def test_server_with_redis_refusing_and_hanging_keeps_serving_then_recovers(django_db_setup):
    target = urlsplit(REDIS_URL)
    proxy = FaultyProxy(target.hostname or "127.0.0.1", target.port or 6379).start()
    env = {
        "REDIS_URL": f"redis://127.0.0.1:{proxy.port}{target.path or '/0'}",
        "CACHE_KEY_PREFIX": f"resilience-{proxy.port}",
        "CACHE_CIRCUIT_BREAKER_SECONDS": "1",
        "DATABASE_URL": pytest_database_url(),  # readiness checks the database too
    }
    try:
        with gunicorn(env, settings="tests.resilience.fault_settings") as base:
            cached = f"{base}/api/v1/test-resilience/cached/"
            assert http("GET", cached)[2] == {"cached_hits": 0}
            assert http("GET", cached)[2] == {"cached_hits": 1}  # the cache works through the proxy
            assert http("GET", f"{base}/api/v1/health/ready/")[0] == 200
            base_time = baseline(lambda: http("GET", cached))  # the same request, Redis healthy

            for mode in (FaultyProxy.REFUSE, FaultyProxy.HANG):
                proxy.set_mode(mode)
                timings = []
                for _ in range(5):
                    started = time.monotonic()
                    status, _, body = http("GET", cached, timeout=10)
                    timings.append(time.monotonic() - started)
                    assert status == 200 and body == {"cached_hits": 0}, (mode, status, body)
                if mode == FaultyProxy.HANG:
                    # Once the breaker period (1 s here) is over, one request tries a fresh connection
                    # into the hang and waits for the socket timeout; the next ones skip Redis again.
                    time.sleep(1.2)  # the breaker runs in the server process: no clock to travel there
                    for _ in range(3):
                        started = time.monotonic()
                        status, _, body = http("GET", cached, timeout=10)
                        timings.append(time.monotonic() - started)
                        assert status == 200 and body == {"cached_hits": 0}, (mode, status, body)
                print(mode, "request times (s):", [round(t, 3) for t in timings])
                # At most one request per breaker period waits for Redis (its connect and socket
                # timeouts, 1 s each: settings CACHES); the others skip it and are as fast as healthy ones.
                assert_within(max(timings), waits=1 + 1, base=base_time, what=(mode, timings))
                assert_within(statistics.median(timings), waits=0, base=base_time, what=(mode, timings))
                status, headers, body = http("GET", f"{base}/api/v1/health/ready/", timeout=10)
                assert status == 503 and body["checks"]["cache"] == "unavailable", (mode, body)
                assert int(headers["Retry-After"]) > 0
                assert http("GET", f"{base}/api/v1/health/", timeout=2)[0] == 200

                proxy.set_mode(FaultyProxy.FORWARD)
                deadline = time.monotonic() + 10
                while http("GET", f"{base}/api/v1/health/ready/", timeout=5)[0] != 200:
                    assert time.monotonic() < deadline, "the cache did not come back"
                    time.sleep(0.2)
                assert http("GET", cached)[2]["cached_hits"] >= 1
    finally:
        proxy.stop()


# ------------------------------------------------------------------------------------------------
# Tasks on a dead broker
# ------------------------------------------------------------------------------------------------
RAN: list[str] = []


def make_app(settings, broker_url: str) -> Celery:
    """A Celery app configured from our settings (as stackpro/celery.py does) on ``broker_url``."""
    settings.CELERY_BROKER_URL = broker_url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}
    app = Celery("resilience-test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    return app


@pytest.fixture
def dead_broker_app(settings):
    app = make_app(settings, dead_redis_url())
    yield app
    app.close()


def register_tasks(app: Celery):
    @app.task(name="resilience.record", shared=False)  # this app only, not every app finalized later
    def record(value):
        RAN.append(value)
        return value

    @app.task(name="resilience.record_resilient", base=ResilientTask, shared=False)
    def record_resilient(value):
        RAN.append(value)
        return value

    return record, record_resilient


def test_a_dead_broker_runs_the_task_inline_within_bounded_time(dead_broker_app, caplog):
    record, record_resilient = register_tasks(dead_broker_app)
    RAN.clear()
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="core.tasks"):
        result = enqueue(record, "via-enqueue")
        record_resilient.delay("via-delay")
    assert time.monotonic() - started < 6
    assert RAN == ["via-enqueue", "via-delay"]
    assert result.get() == "via-enqueue"
    assert sum("running task resilience.record" in r.getMessage() for r in caplog.records) == 2


def test_a_task_failing_inline_does_not_fail_the_caller(dead_broker_app, caplog):
    @dead_broker_app.task(name="resilience.explode", shared=False)
    def explode():
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="core.tasks"):
        assert enqueue(explode) is None
    assert any("failed while running inline" in r.getMessage() for r in caplog.records)


def test_refuse_mode_raises_a_clear_503(dead_broker_app, settings):
    settings.TASK_BROKER_DOWN = "refuse"
    record, record_resilient = register_tasks(dead_broker_app)
    RAN.clear()
    with pytest.raises(TaskQueueUnavailable) as raised:
        enqueue(record, "never")
    assert raised.value.status_code == 503 and raised.value.code == "task_queue_unavailable"
    assert raised.value.headers["Retry-After"]
    with pytest.raises(TaskQueueUnavailable):
        record_resilient.delay("never")
    assert RAN == []


@pytest.mark.redis
@needs_redis
def test_a_live_broker_gets_the_message_and_nothing_runs_here(settings):
    import redis

    app = make_app(settings, REDIS_URL)
    record, _ = register_tasks(app)
    RAN.clear()
    client = redis.Redis.from_url(REDIS_URL)
    client.delete("celery")
    try:
        result = enqueue(record, "queued")
        assert RAN == []
        assert result.id
        assert client.llen("celery") == 1  # Celery's default queue, in this test's Redis db
    finally:
        client.delete("celery")
        client.close()
        app.close()


@pytest.mark.redis
@pytest.mark.slow
@needs_redis
def test_a_hanging_broker_is_bounded_then_inline(settings):
    target = urlsplit(REDIS_URL)
    proxy = FaultyProxy(target.hostname or "127.0.0.1", target.port or 6379).start()
    proxy.set_mode(FaultyProxy.HANG)
    app = make_app(settings, f"redis://127.0.0.1:{proxy.port}{target.path or '/0'}")
    record, _ = register_tasks(app)
    RAN.clear()
    try:
        started = time.monotonic()
        enqueue(record, "after-hang")
        elapsed = time.monotonic() - started
        assert RAN == ["after-hang"]
        assert elapsed < 15, elapsed
    finally:
        app.close()
        proxy.stop()


def test_every_task_of_the_project_publishes_through_the_resilient_rules(db):
    from stackpro.celery import app

    app.loader.import_default_modules()  # autodiscovery: every installed app's tasks.py, as a worker does
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert "projects.tasks.storage_delete_task" in ours and "stackpro.run_scheduled_job" in ours
    assert all(isinstance(task, ResilientTask) for task in ours.values()), {
        name: type(task).__mro__ for name, task in ours.items() if not isinstance(task, ResilientTask)
    }


def test_a_real_task_queued_on_a_dead_broker_still_does_its_work(settings, tmp_path):
    """projects' storage_delete_task, on an app built like stackpro's (TASK_CLASS) with a dead broker:
    the stored object is deleted inline instead of the message being lost."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from stackpro.celery import TASK_CLASS

    key = default_storage.save("resilience/orphan.txt", ContentFile(b"bytes"))
    settings.CELERY_BROKER_URL = dead_redis_url()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}
    app = Celery("resilience-dead-broker", set_as_current=False, task_cls=TASK_CLASS)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    try:
        task = app.tasks["projects.tasks.storage_delete_task"]
        assert isinstance(task, ResilientTask)
        task.delay([key])
        assert not default_storage.exists(key)
    finally:
        app.close()
