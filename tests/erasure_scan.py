"""Look for a person everywhere we keep data: every table (every column, every row), the cache and
the storage bucket. Used by the erasure tests to prove an erased account leaves nothing behind."""

from __future__ import annotations

import base64
import binascii
import json
import pickle
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection

_JWT = re.compile(r"eyJ[\w-]+\.([\w-]+)\.[\w-]+")


def needles_for(user: Any) -> list[str]:
    """What identifies ``user``: email, name, and the id in both the hex and the dashed form."""
    values = [user.email, user.name, user.pk.hex, str(user.pk)]
    return [v.lower() for v in values if v]


def as_text(value: Any) -> str:
    """A value as searchable lower-case text: bytes decoded, pickles loaded, JWT payloads decoded."""
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        try:
            value = repr(pickle.loads(value))  # noqa: S301 - our own cache's values
        except Exception:  # noqa: BLE001 - not a pickle
            value = value.decode("utf-8", "replace")
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value, default=str)
        if isinstance(value, dict | list)
        else str(value)
    )
    for payload in _JWT.findall(text):
        try:
            text += " " + base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            pass
    return text.lower()


def _hits(text: str, needles: list[str]) -> list[str]:
    return [n for n in needles if n in text]


def scan_database(needles: list[str]) -> dict[str, list[str]]:
    """``{table: ["<column>=<value>…", …]}`` for every row of every table that names a needle."""
    found: dict[str, list[str]] = defaultdict(list)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 - introspected names
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    text = as_text(value)
                    if _hits(text, needles):
                        found[table].append(f"{column}={text[:300]}")
    return dict(found)


def scan_cache(needles: list[str]) -> list[str]:
    """Keys (and values) of the cache that name a needle: every key of Redis when the cache is
    django-redis (SCAN), else the local-memory cache's dict."""
    found = []
    if hasattr(cache, "client") and hasattr(cache.client, "get_client"):
        client = cache.client.get_client(write=False)
        items = ((key, client.get(key)) for key in client.scan_iter(count=500))
    else:
        items = iter(list(cache._cache.items()))  # type: ignore[attr-defined]
    for key, value in items:
        text = as_text(key) + " " + as_text(value)
        if _hits(text, needles):
            found.append(text[:300])
    return found


def scan_storage(needles: list[str], *, bucket: Any = None) -> list[str]:
    """Object keys and bodies that name a needle: the S3 bucket (``bucket``: the moto fixture's)
    or the local media directory."""
    found = []
    if bucket is not None:
        for key in bucket.keys():
            body = bucket.client.get_object(Bucket=bucket.name, Key=key)["Body"].read()
            if _hits(as_text(key) + " " + as_text(body), needles):
                found.append(key)
        return found
    root = Path(default_storage.location)  # type: ignore[attr-defined]
    for path in root.rglob("*") if root.exists() else []:
        if path.is_file() and _hits(as_text(str(path)) + " " + as_text(path.read_bytes()), needles):
            found.append(str(path))
    return found
