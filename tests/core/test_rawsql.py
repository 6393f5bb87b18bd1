"""core.rawsql reads exactly what the ORM reads, on the database under test (SQLite or MariaDB)."""

from __future__ import annotations

import os
import uuid

import pytest
from django.db.models import Model

from accounts.models import User
from core import rawsql
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fetch(sql: str, params: list, fields: list) -> list:
    """Rows of a one-off statement, converted as ``rawsql.Query`` converts them."""
    return list(rawsql.Query(sql, fields).rows(params))


def field_values(instance: Model) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_get_by_pk_loads_the_instance_the_orm_loads() -> None:
    user = UserFactory(is_staff=True, email_verified=False, pending_email="new@example.com")
    User.objects.filter(pk=user.pk).update(last_login=user.date_joined)

    loaded = rawsql.get_by_pk(User, user.pk)
    expected = User.objects.get(pk=user.pk)

    assert isinstance(loaded, User)
    assert field_values(loaded) == field_values(expected)
    # the ORM's types, not the driver's: UUID, bool, aware datetimes
    assert isinstance(loaded.pk, uuid.UUID)
    assert loaded.is_staff is True and loaded.email_verified is False and loaded.is_active is True
    assert loaded.last_login is not None and loaded.last_login.utcoffset() is not None
    assert loaded._state.adding is False and loaded._state.db == "default"
    # a loaded instance saves as an update of the same row
    loaded.name = "Renamed"
    loaded.save(update_fields=["name"])
    assert User.objects.get(pk=user.pk).name == "Renamed"


def test_get_by_pk_accepts_the_id_as_text_and_answers_none_for_unknown_or_malformed_ids() -> None:
    user = UserFactory()
    assert rawsql.get_by_pk(User, str(user.pk)) == user
    assert rawsql.get_by_pk(User, uuid.uuid4()) is None
    assert rawsql.get_by_pk(User, "not-a-uuid") is None
    assert rawsql.get_by_pk(User, None) is None


def test_fetch_converts_columns_and_leaves_computed_ones_alone() -> None:
    active, inactive = UserFactory(), UserFactory(is_active=False)
    sql = (
        f"SELECT {rawsql.column(User, 'id')}, {rawsql.column(User, 'is_active')}, "
        f"{rawsql.column(User, 'date_joined')}, 1 + 1 FROM {rawsql.table(User)} "
        f"WHERE {rawsql.column(User, 'id')} IN (%s, %s) ORDER BY {rawsql.column(User, 'email')}"
    )
    meta = User._meta
    params = [rawsql.prep(User, "id", active.pk), rawsql.prep(User, "id", inactive.pk)]
    rows = fetch(sql, params, [meta.get_field("id"), meta.get_field("is_active"), meta.get_field("date_joined"), None])
    expected = sorted([active, inactive], key=lambda u: u.email)
    assert rows == [[u.pk, u.is_active, User.objects.get(pk=u.pk).date_joined, 2] for u in expected]
    assert [type(row[1]) for row in rows] == [bool, bool]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/Los_Angeles"])
def test_ids_and_datetimes_as_read_become_the_apis_text(zone) -> None:
    from django.utils import timezone
    from rest_framework import serializers

    users = [UserFactory(), UserFactory()]
    User.objects.filter(pk=users[1].pk).update(last_login=users[1].date_joined.replace(microsecond=0))
    sql = (
        f"SELECT {rawsql.column(User, 'id')}, {rawsql.column(User, 'date_joined')}, {rawsql.column(User, 'last_login')} "
        f"FROM {rawsql.table(User)} ORDER BY {rawsql.column(User, 'email')}"
    )
    rows = fetch(sql, [], [None, None, None])  # values as the driver reads them
    with timezone.override(zone):
        text = rawsql.datetime_text_function()
        drf = serializers.DateTimeField().to_representation
        expected = [
            [str(u.pk), drf(u.date_joined), drf(u.last_login) if u.last_login else None]
            for u in User.objects.order_by("email")
        ]
        assert [[rawsql.uuid_text(i), text(j), text(k)] for i, j, k in rows] == expected
    assert rawsql.uuid_text(None) is None and rawsql.uuid_text(users[0].pk) == str(users[0].pk)
    assert rawsql.uuid_text(users[0].pk.hex) == str(users[0].pk)


def test_text_in_sql_applies_on_mysql_in_utc_only() -> None:
    from django.db import connection
    from django.utils import timezone

    assert rawsql.text_in_sql() is (connection.vendor == "mysql")
    with timezone.override("Europe/Paris"):
        assert rawsql.text_in_sql() is False


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("mysql"), reason="the database writes the text on MySQL/MariaDB"
)
def test_the_database_writes_ids_and_datetimes_as_drf_does() -> None:
    import datetime

    from django.db import connection
    from rest_framework import serializers

    drf = serializers.DateTimeField().to_representation
    user = UserFactory()
    cases = [
        user.date_joined.replace(microsecond=123456),
        user.date_joined.replace(microsecond=120000),
        user.date_joined.replace(microsecond=1),
        user.date_joined.replace(microsecond=0),
        datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        None,
    ]
    id_sql, when_sql = rawsql.column(User, "id"), rawsql.column(User, "last_login")
    query = rawsql.Query(
        f"SELECT {rawsql.uuid_text_sql(id_sql)}, {rawsql.datetime_text_sql(when_sql)} "
        f"FROM {rawsql.table(User)} WHERE {id_sql} = %s",
        [None, None],
    )
    for when in cases:
        User.objects.filter(pk=user.pk).update(last_login=when)
        assert query.rows([rawsql.prep(User, "id", user.pk)]) == ((str(user.pk), drf(when) if when else None),)

    # MySQL's char(32) UUIDs (MariaDB's native column reads as text already): the dashes are added
    hex_sql = rawsql.uuid_text_sql("t.h")
    if connection.features.has_native_uuid_field:
        connection.features.__dict__["has_native_uuid_field"] = False
        try:
            hex_sql = rawsql.uuid_text_sql("t.h")
        finally:
            del connection.features.__dict__["has_native_uuid_field"]
    assert hex_sql != "t.h"
    for value in [uuid.uuid4(), uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]:
        rows = fetch(f"SELECT {hex_sql} FROM (SELECT %s AS h) t", [value.hex], [None])  # noqa: S608
        assert list(rows) == [(str(value),)]
    assert list(fetch(f"SELECT {hex_sql} FROM (SELECT NULL AS h) t", [], [None])) == [(None,)]  # noqa: S608
