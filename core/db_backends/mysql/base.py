"""Django's MySQL/MariaDB backend, with health checks that skip the ping on a connection that has
just proven itself, and DATETIME values read in C.

With ``CONN_HEALTH_CHECKS`` Django pings the server before the first query of every request: one
more round trip on every request, about a tenth of the projects list's CPU (docs/performance.md).
This backend skips that ping when the connection finished a request that used it without a
database error less than ``HEALTH_CHECK_IDLE_SECONDS`` ago (a ``DATABASES`` key; 0 pings every
time, as Django does). Everything else is Django's:

- a connection idle for longer (a Lambda container thawed, a quiet worker thread) is pinged first,
  and a dead one is replaced before the request's first query;
- a query that fails marks the connection (``errors_occurred``) and the end of that request pings
  it and closes it if it is broken, so the next request reconnects. The cost of skipping the ping:
  a connection the server drops within that short window fails one request (a 503 with
  ``Retry-After``, core/exceptions.py) instead of being replaced silently.

With PyMySQL (Lambda) and TLS (``ssl_ca`` in DATABASE_URL, RDS in production), every new connection
used to build its own ``SSLContext`` from the CA bundle: parsing RDS's global bundle (~120
certificates) costs 50-80 ms here, on the request that opens the connection — the first request of
every Lambda environment, restored SnapStart ones included. ``shared_ssl_context`` builds it once per
process (``stackpro.lambda_app.warm_up`` builds it during init) and PyMySQL takes it as ``ssl``; the
checks are the same (certificate required, the host name checked when ``ssl_verify_identity``).

The drivers turn each DATETIME value into a ``datetime`` with Python code (mysqlclient's
``times.DateTime_or_None``, PyMySQL's ``convert_datetime``): the largest single item of the projects
list's CPU in a profile of the server (two datetimes per item). ``read_datetime`` gives the same
values through ``datetime.fromisoformat`` (C) and hands anything else (zero dates, a bare date) to
the driver's own function.
"""

from __future__ import annotations

import datetime
import functools
import ssl
import time
from typing import Any

from django.db.backends.mysql import base
from MySQLdb.constants import FIELD_TYPE

_DRIVER_DATETIME = base.django_conversions[FIELD_TYPE.DATETIME]


def read_datetime(value: Any) -> Any:
    """A DATETIME column's text (``YYYY-MM-DD HH:MM:SS[.ffffff]``) as the driver would read it."""
    text = value.decode("ascii") if isinstance(value, (bytes, bytearray)) else value
    if isinstance(text, str) and len(text) >= 19 and text[10] == " ":
        try:
            return datetime.datetime.fromisoformat(text)
        except ValueError:
            pass  # a zero date and the like: the driver decides (None, or the text)
    return _DRIVER_DATETIME(value)


@functools.lru_cache(maxsize=4)
def shared_ssl_context(ca: str, verify_identity: bool) -> ssl.SSLContext:
    """The TLS context PyMySQL would build from ``ssl_ca``/``ssl_verify_cert``/``ssl_verify_identity``,
    built once: SSLContext objects are meant to be shared by connections and threads."""
    context = ssl.create_default_context(cafile=ca)
    context.check_hostname = verify_identity
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def pymysql_tls(params: dict[str, Any]) -> dict[str, Any]:
    """Connection kwargs with PyMySQL's ``ssl_*`` options (core.db._tls_options) replaced by the
    shared context; anything else (mysqlclient's ``ssl`` dict, no TLS) is returned unchanged."""
    if not params.get("ssl_ca"):
        return params
    params = dict(params)
    ca, verify_identity = params.pop("ssl_ca"), bool(params.pop("ssl_verify_identity", False))
    params.pop("ssl_verify_cert", None)
    params["ssl"] = shared_ssl_context(ca, verify_identity)
    return params


class DatabaseWrapper(base.DatabaseWrapper):
    _proven_at: float | None = None  # monotonic time the connection last finished a request cleanly
    _used = False  # a cursor was opened since the last request boundary

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        params["conv"] = {**params["conv"], FIELD_TYPE.DATETIME: read_datetime}
        return pymysql_tls(params)

    def _cursor(self, name: Any = None) -> Any:
        self._used = True
        return super()._cursor(name)  # type: ignore[misc]  # (not in django-stubs)

    def close_if_health_check_failed(self) -> None:
        idle = float(self.settings_dict.get("HEALTH_CHECK_IDLE_SECONDS") or 0)
        if (
            self.connection is not None
            and self.health_check_enabled  # type: ignore[attr-defined]
            and not self.health_check_done  # type: ignore[has-type]
            and self._proven_at is not None
            and time.monotonic() - self._proven_at < idle
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close_if_unusable_or_obsolete(self) -> None:
        """Runs at each request's start and end (Django's ``close_old_connections``)."""
        used, self._used = self._used, False
        clean = not self.errors_occurred
        super().close_if_unusable_or_obsolete()
        if self.connection is None:
            self._proven_at = None
        elif used and clean:
            self._proven_at = time.monotonic()

    def _close(self) -> None:
        self._proven_at = None
        super()._close()  # type: ignore[misc]
