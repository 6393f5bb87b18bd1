"""Django's MySQL/MariaDB backend with changes on the hot path (why and what they bought:
docs/performance.md, "CPU per request of the projects list").

- The health-check ping (``CONN_HEALTH_CHECKS``) is skipped on a connection that finished a request
  which used it, without a database error, less than ``HEALTH_CHECK_IDLE_SECONDS`` ago (a
  ``DATABASES`` key; 0 pings every time, as Django does). A connection idle for longer is pinged and
  replaced if dead; a failed query marks the connection and the end of its request closes it if
  broken. The price: a connection dropped inside the window fails one request (503 with
  ``Retry-After``) instead of being replaced silently.
- DATETIME values are read by ``datetime.fromisoformat`` (C) instead of the driver's Python
  function; anything else (zero dates, a bare date) still goes to the driver's own function.
- A process's first connection is its only one: Django reads the server's version and variables
  (``mysql_server_data``, on the first feature flag that needs them, such as a UUID lookup's)
  through ``temporary_connection()``, which before the first query means a connection opened and
  closed for that alone (a second TCP + TLS handshake on RDS, at every cold start); here the query
  runs on the connection the process opens anyway.
- An outermost ``atomic`` block starts with ``BEGIN``: Django's way (``SET autocommit=0``, then
  ``SET autocommit=1`` after the commit) costs two statements where one does, the server never
  leaving autocommit (both drivers send nothing for ``autocommit(True)`` then). Savepoints, the
  commit, the rollback and ``on_commit`` hooks are Django's own.
- With PyMySQL and TLS (``ssl_ca``; RDS), ``shared_ssl_context`` builds the CA bundle's
  ``SSLContext`` once per process (``stackpro.lambda_app.warm_up`` does it during init) instead of
  on every new connection (50-80 ms each: docs/performance.md); the checks are the same.
"""

from __future__ import annotations

import datetime
import functools
import ssl
import time
from typing import Any

from django.db.backends.mysql import base
from django.db.backends.utils import debug_transaction
from django.utils.functional import cached_property
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

    @cached_property
    def mysql_server_data(self) -> dict[str, Any]:
        self.ensure_connection()  # connecting may have read it already (init_connection_state)
        if "mysql_server_data" in self.__dict__:
            return self.__dict__["mysql_server_data"]
        return base.DatabaseWrapper.mysql_server_data.func(self)  # type: ignore[attr-defined]

    def _start_transaction_under_autocommit(self) -> None:
        """Called by ``set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)``,
        which is how ``atomic`` opens a transaction (Django uses it for SQLite only)."""
        with debug_transaction(self, "BEGIN"), self.wrap_database_errors, self.connection.cursor() as cursor:
            cursor.execute("BEGIN")

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
