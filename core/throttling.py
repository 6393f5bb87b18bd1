"""Throttles on the shared cache with atomic fixed-window counters.

DRF's stock throttles keep a list of timestamps per client and write it back (read-modify-write),
so concurrent requests race past the limit; here each hit is one atomic count on the shared cache
(on Redis one ``EVALSHA`` that also sets the window's expiry, ``core.cache``) — that holds across
every worker and instance. The client IP honours ``NUM_PROXIES`` exactly, so a
client cannot pick its own identity with X-Forwarded-For.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache
from django.utils.crypto import salted_hmac
from rest_framework import throttling
from rest_framework.request import Request
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)


def client_ip(request: Any) -> str:
    """The client's address as seen by the outermost of ``NUM_PROXIES`` trusted proxies."""
    meta = request.META
    remote_addr = meta.get("REMOTE_ADDR", "") or ""
    num_proxies = api_settings.NUM_PROXIES or 0
    xff = meta.get("HTTP_X_FORWARDED_FOR")
    if num_proxies > 0 and xff:
        addrs = [a.strip() for a in xff.split(",") if a.strip()]
        if addrs:
            return addrs[-min(num_proxies, len(addrs))]
    return remote_addr


def parse_rate(rate: str) -> tuple[int, int]:
    """ "10/min" → (10, 60). Periods: s, sec, m, min, h, hour, d, day; an optional count ("5/15m")."""
    count, _, period = rate.partition("/")
    digits = "".join(ch for ch in period if ch.isdigit())
    unit = period[len(digits) :]
    multiplier = int(digits) if digits else 1
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit[0]]
    return int(count), seconds * multiplier


def _bucket(key: str, window_start: int) -> str:
    """The counter's cache key. The ident (a user id, an address, an IP) is stored only as a keyed
    hash, so the cache never names a person (an erased account leaves no id in Redis)."""
    digest = salted_hmac("stackpro.throttle", key, algorithm="sha256").hexdigest()[:32]
    return f"throttle:{digest}:{window_start}"


def hit(key: str, limit: int, window: int) -> tuple[bool, int]:
    """Count one hit on ``key``; return (allowed, seconds until the window resets).

    If the cache is down the request is allowed (and logged): a broken cache must not take the
    API down; quotas that matter use the database instead.
    """
    now = int(time.time())
    window_start = now - now % window
    bucket = _bucket(key, window_start)
    retry_after = window_start + window - now
    try:
        count_in_window = getattr(cache, "count_in_window", None)  # Redis: one atomic round trip
        if count_in_window is not None:
            count = count_in_window(bucket, window + 1)
        else:
            try:
                count = cache.incr(bucket)
            except ValueError:  # the window's first hit: create the counter (or count on a racer's)
                count = 1 if cache.add(bucket, 1, window + 1) else cache.incr(bucket)
    except Exception as exc:  # noqa: BLE001 — degrade open, loudly
        logger.warning("throttle cache unavailable, allowing request: %s", exc)
        return True, 0
    return count <= limit, retry_after


class CacheRateThrottle(throttling.BaseThrottle):
    """A DRF throttle over ``hit()``. Subclasses set ``scope`` and implement ``get_ident_key``."""

    scope = ""
    rate: str | None = None

    def get_rate(self) -> str | None:
        if self.rate:
            return self.rate
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return str(rate) if rate else None

    def get_ident_key(self, request: Request, view: Any) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        rate = self.get_rate()
        ident = self.get_ident_key(request, view)
        if not rate or ident is None:
            return True
        limit, window = parse_rate(rate)
        allowed, self._wait = hit(f"{self.scope}:{ident}", limit, window)
        return allowed

    def wait(self) -> float | None:
        return float(getattr(self, "_wait", 1) or 1)


class AnonRateThrottle(CacheRateThrottle):
    scope = "anon"

    def get_ident_key(self, request: Request, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return client_ip(request)


class UserRateThrottle(CacheRateThrottle):
    scope = "user"

    def get_ident_key(self, request: Request, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return str(request.user.pk)
        return None
