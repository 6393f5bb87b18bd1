"""Throttles with atomic fixed-window counters in a store every process shares.

DRF's stock throttles keep a list of timestamps per client and write it back (read-modify-write),
so concurrent requests race past the limit; here each hit is one atomic count in the store chosen
by ``THROTTLE_STORE``:

- ``"cache"``: the shared cache; on Redis one ``EVALSHA`` that also sets the window's expiry
  (``core.cache``). The server choice.
- ``"database"``: the ``ThrottleCounter`` table of the application database, one
  ``INSERT … ON DUPLICATE KEY UPDATE`` (MySQL/MariaDB) or ``INSERT … ON CONFLICT`` (SQLite) per
  hit; expired windows are deleted by the ``purge_throttle_counters`` job. The default wherever
  no Redis is configured (Lambda): a per-process memory cache would let each process count alone.

Either holds across every worker, container and instance. When the store does not answer, an
ordinary limit lets the request through (logged: a broken store must not take the API down); a
security limit (``security=True``: login, password checks, reset, admin login) tries the database
next and refuses the attempt when no store answers. The client IP honours ``NUM_PROXIES`` exactly,
so a client cannot pick its own identity with X-Forwarded-For (on Lambda, core/lambda_handler.py
makes ``REMOTE_ADDR`` the address API Gateway saw).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connection
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


def count_in_cache(bucket: str, ttl: int) -> int:
    """One more hit on ``bucket`` in the shared cache; its first hit gives it ``ttl`` seconds."""
    count_in_window = getattr(cache, "count_in_window", None)  # Redis: one atomic round trip
    if count_in_window is not None:
        return int(count_in_window(bucket, ttl))
    try:
        return int(cache.incr(bucket))
    except ValueError:  # the window's first hit: create the counter (or count on a racer's)
        return 1 if cache.add(bucket, 1, ttl) else int(cache.incr(bucket))


def count_in_database(bucket: str, ttl: int) -> int:
    """One more hit on ``bucket`` in the ThrottleCounter table, atomically, in one statement.

    Two first hits on the same new bucket can deadlock in InnoDB (both take a gap lock before
    inserting); the loser is tried once more, when no outer transaction was broken by it."""
    try:
        return _upsert_count(bucket, ttl)
    except OperationalError:
        if connection.in_atomic_block:
            raise
        return _upsert_count(bucket, ttl)


def _upsert_count(bucket: str, ttl: int) -> int:
    from .models import ThrottleCounter

    table = connection.ops.quote_name(ThrottleCounter._meta.db_table)
    expires = int(time.time()) + ttl
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            # LAST_INSERT_ID(expr) hands the new count back in the OK packet (cursor.lastrowid);
            # a first hit inserts, and the table has no auto-increment id, so lastrowid is 0.
            cursor.execute(
                f"INSERT INTO {table} (bucket, count, expires) VALUES (%s, 1, %s) "  # noqa: S608 (our table name)
                "ON DUPLICATE KEY UPDATE count = LAST_INSERT_ID(count + 1)",
                [bucket, expires],
            )
            return int(cursor.lastrowid or 1)
        cursor.execute(
            f"INSERT INTO {table} (bucket, count, expires) VALUES (%s, 1, %s) "  # noqa: S608 (our table name)
            "ON CONFLICT (bucket) DO UPDATE SET count = count + 1 RETURNING count",
            [bucket, expires],
        )
        return int(cursor.fetchone()[0])


STORES = {"cache": count_in_cache, "database": count_in_database}


def hit(key: str, limit: int, window: int, *, security: bool = False) -> tuple[bool, int]:
    """Count one hit on ``key``; return (allowed, seconds until the window resets).

    When the store does not answer, an ordinary limit allows the request (logged); a security
    limit counts in the database instead and refuses the attempt when that fails too.
    """
    now = int(time.time())
    window_start = now - now % window
    bucket = _bucket(key, window_start)
    retry_after = window_start + window - now
    stores = [settings.THROTTLE_STORE]
    if security and "database" not in stores:
        stores.append("database")
    for store in stores:
        try:
            count = STORES[store](bucket, window + 1)
        except Exception as exc:  # noqa: BLE001 — degrade, loudly
            logger.warning("throttle store %r unavailable: %s", store, exc)
            continue
        return count <= limit, retry_after
    if security:
        logger.error("no throttle store answered: refusing a rate-limited security action")
        return False, retry_after
    logger.warning("no throttle store answered: allowing the request")
    return True, 0


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
