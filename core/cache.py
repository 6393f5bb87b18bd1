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

import logging
import threading
import time
from typing import Any

from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted

logger = logging.getLogger(__name__)


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
