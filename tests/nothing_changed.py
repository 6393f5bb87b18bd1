"""Proof that a refused request changed nothing: every row of our apps (``updated_at`` included), the
mail outbox, and the objects in storage are the same after it as before.

    with nothing_changed():
        assert_api_error(viewer.delete(url), 403, "permission_denied")

Rows cover activity, notifications, email deliveries, memberships, invitations, files, tombstones,
conversations, usage, idempotency records and accounts, whatever app they belong to. A write that is
refused must leave no trace in any of them; the assertion names the table and the rows that moved.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.files.storage import default_storage


def _our_models() -> list[Any]:
    """Every table of our apps (proxies and unmanaged views read tables already listed, or none),
    but the rate-limit counters: a refused request still counts against its limits."""
    return [
        model
        for app in settings.LOCAL_APPS
        for model in apps.get_app_config(app).get_models()
        if model._meta.managed and not model._meta.proxy and model._meta.db_table != "core_throttlecounter"
    ]


def _rows() -> dict[str, list[dict[str, Any]]]:
    return {model._meta.db_table: list(model.objects.order_by("pk").values()) for model in _our_models()}


def _storage_objects(directory: str = "") -> list[tuple[str, int]]:
    """(name, size) of every object in ``default_storage`` (local files or the S3 bucket)."""
    try:
        directories, files = default_storage.listdir(directory)
    except FileNotFoundError:
        return []
    found = [(name, default_storage.size(name)) for name in (f"{directory}{f}" for f in files)]
    for sub in directories:
        found += _storage_objects(f"{directory}{sub}/")
    return sorted(found)


def _outbox() -> list[tuple[str, tuple[str, ...]]]:
    return [(message.subject, tuple(message.to)) for message in getattr(mail, "outbox", [])]


def snapshot(*, storage: bool = True) -> dict[str, Any]:
    state: dict[str, Any] = {"rows": _rows(), "outbox": _outbox()}
    if storage:
        state["storage"] = _storage_objects()
    return state


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    found = []
    for table, rows in before["rows"].items():
        if after["rows"][table] != rows:
            gone = [row for row in rows if row not in after["rows"][table]]
            new = [row for row in after["rows"][table] if row not in rows]
            found.append(f"{table}: was {gone}, now {new}")
    for key in ("outbox", "storage"):
        if key in before and before[key] != after[key]:
            found.append(f"{key}: was {before[key]}, now {after[key]}")
    return found


@contextmanager
def nothing_changed(*, storage: bool = True) -> Iterator[None]:
    """Assert that the block leaves every row, the outbox and (unless ``storage=False``) storage as they were."""
    before = snapshot(storage=storage)
    yield
    changed = differences(before, snapshot(storage=storage))
    assert not changed, "a refused request changed:\n  " + "\n  ".join(changed)
