"""Hot-path reads as SQL written once, with the ORM's own value converters.

For the few reads every authenticated list makes — the JWT's user and the projects page — building
and compiling the ORM query cost more CPU than running it (docs/performance.md), so the SQL is
written by hand, keeping the ORM's semantics where they matter:

- parameters are prepared by the model field (``field.get_db_prep_value``), as the ORM sends them;
- each value read back goes through the converters the ORM applies (``ops.get_db_converters`` and
  the field's own), so UUIDs, booleans and aware datetimes come out as the ORM returns them;
- table and column names come from the models' ``_meta`` and are quoted by the backend.

Where a hot list only prints ids and datetimes, they go straight to the API's text: written by the
database on MySQL/MariaDB in UTC (``uuid_text_sql``, ``datetime_text_sql``), else by ``uuid_text``
and ``datetime_text_function``. ``tests/core/test_rawsql.py`` holds these reads to the ORM's values
and DRF's text on the database under test.
"""

from __future__ import annotations

import datetime
import functools
import uuid
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.utils import timezone

M = TypeVar("M", bound=Model)

Converters = tuple[tuple[int, tuple[Any, ...], Any], ...]
_ZERO = datetime.timedelta(0)


def quote(name: str, using: str = DEFAULT_DB_ALIAS) -> str:
    return connections[using].ops.quote_name(name)


def table(model: type[Model], using: str = DEFAULT_DB_ALIAS) -> str:
    return quote(model._meta.db_table, using)


def column(model: type[Model], field_name: str, alias: str | None = None, using: str = DEFAULT_DB_ALIAS) -> str:
    """``alias.column`` of a model field, quoted (``alias`` defaults to the table)."""
    field = model._meta.get_field(field_name)
    prefix = quote(alias, using) if alias else table(model, using)
    return f"{prefix}.{quote(field.column, using)}"  # type: ignore[union-attr,arg-type]


def prep(model: type[Model], field_name: str, value: Any, using: str = DEFAULT_DB_ALIAS) -> Any:
    """``value`` as the ORM would send it for ``model.field_name`` (UUIDs, booleans, ...)."""
    field = model._meta.get_field(field_name)
    return field.get_db_prep_value(value, connections[using], prepared=False)  # type: ignore[union-attr]


class Query:
    """A statement written once: its SQL (``%s`` placeholders) and, per selected column, the model
    field whose ORM converters its values go through (``None``: as read, for counts and other
    computed columns). Build it once per process (``functools.cache``) and run it many times."""

    def __init__(self, sql: str, fields: Sequence[Field | None]) -> None:
        self.sql = sql
        self.fields = tuple(fields)
        # Converters are bound to a connection, and connections are per thread.
        self._converters: weakref.WeakKeyDictionary[BaseDatabaseWrapper, Converters] = weakref.WeakKeyDictionary()

    def converters(self, connection: BaseDatabaseWrapper) -> Converters:
        found = self._converters.get(connection)
        if found is None:
            built = []
            for index, field in enumerate(self.fields):
                if field is None:
                    continue
                col = field.get_col(field.model._meta.db_table)
                functions = tuple(connection.ops.get_db_converters(col) + col.get_db_converters(connection))
                if functions:
                    built.append((index, functions, col))
            found = self._converters[connection] = tuple(built)
        return found

    def rows(self, params: Sequence[Any], using: str = DEFAULT_DB_ALIAS) -> Sequence[Sequence[Any]]:
        """The statement's rows for ``params``, each value converted as the ORM converts it: lists,
        or the driver's tuples as they are when no column has a converter."""
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        converters = self.converters(connection)
        if not converters:
            return rows
        out = []
        for raw in rows:
            row = list(raw)
            for index, functions, col in converters:
                value = row[index]
                for function in functions:
                    value = function(value, col, connection)
                row[index] = value
            out.append(row)
        return out


@functools.cache
def _pk_query(model: type[Model], vendor: str, using: str) -> tuple[Query, list[str]]:
    meta = model._meta
    fields = list(meta.concrete_fields)
    columns = ", ".join(quote(field.column, using) for field in fields)
    pk_column = quote(meta.pk.column, using)  # type: ignore[union-attr]
    sql = f"SELECT {columns} FROM {table(model, using)} WHERE {pk_column} = %s"  # noqa: S608 (names from _meta)
    return Query(sql, fields), [field.attname for field in fields]


def get_by_pk(model: type[M], pk: Any, using: str = DEFAULT_DB_ALIAS) -> M | None:
    """``model.objects.filter(pk=pk).first()`` without building a query: the instance with every
    concrete field loaded, or None. A ``pk`` the field cannot read (a malformed UUID) is None."""
    from django.core.exceptions import ValidationError

    try:
        param = prep(model, model._meta.pk.name, pk, using)  # type: ignore[union-attr]
    except (ValidationError, ValueError, TypeError):
        return None
    query, attnames = _pk_query(model, connections[using].vendor, using)
    rows = query.rows([param], using)
    if not rows:
        return None
    return model.from_db(using, attnames, rows[0])


# ------------------------------------------------------------------------------------------------
# Values straight to the API's text, for hot lists (``Query`` with ``None`` for these columns)
# ------------------------------------------------------------------------------------------------
def uuid_text(value: Any) -> str | None:
    """A UUID column's value as read (a ``UUID``, MariaDB's canonical text, or the 32 hex digits of
    MySQL's and SQLite's ``char(32)``) as the API writes it: lowercase, with dashes."""
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    if len(value) == 36 and value.islower():
        return value  # MariaDB's uuid type: already canonical
    return str(uuid.UUID(value))


def _api_zone_is_utc(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Naive DATETIME values are UTC and the API writes UTC: the usual case, where a value only
    needs its ``Z``."""
    if not settings.USE_TZ:
        return False
    zone = timezone.get_current_timezone()
    connection_zone = connections[using].timezone
    return (
        getattr(zone, "key", None) == "UTC" and connection_zone is not None and connection_zone.utcoffset(None) == _ZERO
    )


def datetime_text_function(using: str = DEFAULT_DB_ALIAS) -> Callable[[Any], str | None]:
    """A function turning a DateTimeField's value as read (a naive datetime in the connection's time
    zone from MySQL, text from SQLite, or an aware datetime) into the text DRF's ``DateTimeField``
    writes: ISO 8601 in the current time zone, ``Z`` for UTC. Time zones are looked up once, here:
    make one per list."""
    use_tz = settings.USE_TZ
    connection_zone = connections[using].timezone if use_tz else None
    zone = timezone.get_current_timezone() if use_tz else None
    utc = _api_zone_is_utc(using)

    def text(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value)
        if not use_tz:
            return value.isoformat()
        if value.tzinfo is None:
            if utc:
                return value.isoformat() + "Z"
            value = value.replace(tzinfo=connection_zone)
        result = value.astimezone(zone).isoformat()
        return result[:-6] + "Z" if result.endswith("+00:00") else result

    return text


# The same text written by the database, so a hot list's ids and datetimes arrive as the API's
# strings and no Python runs per value. Only where the result is certain to match: MySQL and
# MariaDB, UTC stored and UTC written (``text_in_sql``); elsewhere the functions above.
def text_in_sql(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether ``uuid_text_sql`` and ``datetime_text_sql`` apply on ``using`` right now (they
    depend on the current time zone: check per request, build the SQL once per answer)."""
    return connections[using].vendor == "mysql" and _api_zone_is_utc(using)


def uuid_text_sql(column_sql: str, using: str = DEFAULT_DB_ALIAS) -> str:
    """SQL selecting a UUIDField column as ``uuid_text`` writes it. MariaDB's native ``uuid``
    column already reads as that text; MySQL's ``char(32)`` gets its dashes. MySQL/MariaDB only."""
    if connections[using].features.has_native_uuid_field:
        return column_sql
    parts = ", '-', ".join(
        f"SUBSTRING({column_sql}, {start}, {length})" for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
    )
    return f"LOWER(CONCAT({parts}))"  # CONCAT: NULL stays NULL


def datetime_text_sql(column_sql: str) -> str:
    """SQL selecting a naive UTC DATETIME column as DRF writes it in UTC: ISO 8601 with a ``T``,
    the six fraction digits only when they are not all zero (as ``isoformat``), and ``Z``.
    MySQL/MariaDB, where ``text_in_sql`` holds. No ``%``: safe with or without parameters."""
    return f"CONCAT(REPLACE(TRIM(TRAILING '.000000' FROM CAST({column_sql} AS CHAR)), ' ', 'T'), 'Z')"
