"""A django-redis cache that degrades instead of failing when Redis is down, with a circuit breaker.

- Reads miss and writes are dropped while Redis is unreachable (django-redis ``IGNORE_EXCEPTIONS``),
  so a cache can never take a request down.
- ``incr``/``decr`` still raise (``CacheUnavailable``): a counter must not silently read as None.
  ``core.throttling.hit`` catches it and lets the request through, logged.
- After a failure the breaker opens for ``CIRCUIT_BREAKER_SECONDS`` (OPTIONS): calls fail at once
  instead of each waiting for the socket timeout, so a hanging Redis costs one timeout per process
  per period, not one per cache call. One warning when it opens, one info line when Redis is back.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

_REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)


class CacheUnavailable(Exception):
    """The cache cannot be reached (or its circuit breaker is open)."""


class _CircuitOpen(Exception):
    def __str__(self) -> str:
        return "circuit breaker open"


class _BreakerClient:
    """Wraps django-redis's client: every call passes through the cache's breaker."""

    def __init__(self, client: Any, cache: ResilientRedisCache) -> None:
        self._client = client
        self._cache = cache

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self._cache._before_call()
            try:
                result = attr(*args, **kwargs)
            except ConnectionInterrupted as exc:
                self._cache._failed(exc)
                raise
            self._cache._succeeded()
            return result

        return call


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        params = {**params, "OPTIONS": dict(params.get("OPTIONS", {}))}
        self.breaker_seconds = float(params["OPTIONS"].pop("CIRCUIT_BREAKER_SECONDS", 5))
        params["OPTIONS"].setdefault("IGNORE_EXCEPTIONS", True)
        super().__init__(server, params)
        self._open_until = 0.0
        self._down = False
        self._lock = threading.Lock()
        self._local = threading.local()  # per thread: the throttle counter's connection

    # -- breaker --------------------------------------------------------------------------------
    def _before_call(self) -> None:
        if time.monotonic() < self._open_until:
            raise ConnectionInterrupted(connection=None) from _CircuitOpen()

    def _failed(self, exc: ConnectionInterrupted) -> None:
        if isinstance(exc.__cause__, _CircuitOpen):
            return
        with self._lock:
            self._open_until = time.monotonic() + self.breaker_seconds
            if not self._down:
                self._down = True
                logger.warning(
                    "cache unavailable, degrading (reads miss, writes dropped, throttles open) for %.0f s: %s",
                    self.breaker_seconds,
                    exc,
                )

    def _succeeded(self) -> None:
        if self._down:
            with self._lock:
                if self._down:
                    self._down = False
                    logger.info("cache reachable again")

    @property
    def available(self) -> bool:
        """False while the breaker is open (the last call failed less than the period ago)."""
        return time.monotonic() >= self._open_until

    @property
    def client(self) -> Any:
        return _BreakerClient(super().client, self)

    def disconnect(self) -> None:
        """Close every socket to Redis (the pool's and this thread's counter connection); the next
        call opens new ones. Before a Lambda SnapStart snapshot (stackpro.lambda_app): a socket
        restored from a snapshot would be shared by every copy of it."""
        if self._client is not None:
            self._client.do_close_clients()
        counter = getattr(self._local, "counter", None)
        if counter is not None:
            counter.disconnect()
        self._local = threading.local()

    # -- a window counter in one round trip (core.throttling.hit) --------------------------------
    _COUNT_SCRIPT = (
        "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n"
    )
    _COUNT_SHA = hashlib.sha1(_COUNT_SCRIPT.encode()).hexdigest()  # noqa: S324 (Redis names scripts by SHA-1)

    def count_in_window(self, key: str, ttl: int) -> int:
        """Add one to the counter ``key`` and return it; its first count gives it ``ttl`` seconds.

        Every authenticated request counts once, so this is one ``EVALSHA`` (the count and its
        expiry in one atomic step; the script is loaded again if Redis lost it) on a connection
        each thread keeps for it: redis-py's pool checks a connection out, polls it and checks it
        back in on every command, which cost twice the round trip itself (docs/performance.md).
        A connection the server dropped gets one more try on a fresh one (a lost reply may then count
        one hit twice); on any other error the connection is closed, so the next call starts on a
        fresh one. Raises ``CacheUnavailable`` as ``incr`` does, through the same circuit breaker."""
        try:
            self._before_call()
        except ConnectionInterrupted as exc:
            raise CacheUnavailable(str(exc)) from exc
        connection = getattr(self._local, "counter", None)
        if connection is None:
            pool = super().client.get_client(write=True).connection_pool
            connection = self._local.counter = pool.connection_class(**pool.connection_kwargs)
        key = self.make_key(key)
        try:
            try:
                count = self._run_count(connection, key, ttl)
            except RedisConnectionError:  # e.g. the server closed it while idle: once more, fresh
                connection.disconnect()
                count = self._run_count(connection, key, ttl)
        except _REDIS_ERRORS as exc:
            connection.disconnect()
            interrupted = ConnectionInterrupted(connection=connection)
            interrupted.__cause__ = exc
            self._failed(interrupted)
            raise CacheUnavailable(str(exc)) from exc
        except BaseException:
            connection.disconnect()  # a reply may be left unread: never reuse the socket
            raise
        self._succeeded()
        return int(count)

    def _run_count(self, connection: Any, key: str, ttl: int) -> Any:
        try:
            connection.send_command("EVALSHA", self._COUNT_SHA, 1, key, ttl)
            return connection.read_response()
        except NoScriptError:  # a restarted or flushed Redis: load the script, then count
            connection.send_command("SCRIPT", "LOAD", self._COUNT_SCRIPT)
            connection.read_response()
            connection.send_command("EVALSHA", self._COUNT_SHA, 1, key, ttl)
            return connection.read_response()

    # -- counters must not read as None ---------------------------------------------------------
    def incr(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self.client.incr(*args, **kwargs)
        except ConnectionInterrupted as exc:
            raise CacheUnavailable(str(exc)) from exc

    def decr(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self.client.decr(*args, **kwargs)
        except ConnectionInterrupted as exc:
            raise CacheUnavailable(str(exc)) from exc
