"""core.renderers.JSONRenderer writes the bytes DRF's JSONRenderer writes (or falls back to it)."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers as drf_renderers
from rest_framework.exceptions import ErrorDetail
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from core.renderers import JSONRenderer


@dataclasses.dataclass
class Point:
    x: int


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Role(str, enum.Enum):
    OWNER = "owner"


class Ratio(float):
    pass


NOW = datetime.datetime(2026, 11, 26, 14, 5, 6, 123456, tzinfo=datetime.UTC)
CORPUS = {
    "empty": {},
    "nested": {"a": [1, 2, {"b": None, "c": True, "d": False}], "e": "text", "f": -17},
    "page": {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [{"id": str(uuid.uuid4()), "name": "Zebra", "archived": False, "member_count": 3}],
    },
    "unicode": {"name": "Zoë 東京 🚀", "quote": 'say "hi"\\', "controls": "a\nb\tc\rd\x00e\x1f\x7f\b\f"},
    "line separators": {"js": "before\u2028middle\u2029after"},
    "other 0xE2 characters": {"text": "a — b … 5 €"},
    "datetimes": {
        "utc": NOW,
        "whole second": NOW.replace(microsecond=0),
        "paris": NOW.astimezone(ZoneInfo("Europe/Paris")),
        "naive": NOW.replace(tzinfo=None),
        "date": NOW.date(),
        "time": NOW.time(),
        "delta": datetime.timedelta(hours=1, microseconds=5),
    },
    "other types": {
        "uuid": uuid.UUID(int=7),
        "decimal": decimal.Decimal("12.50"),
        "lazy": gettext_lazy("This field is required."),
        "error": ErrorDetail("Not found.", code="not_found"),
        "tuple": (1, "two"),
        "int enum": Level.HIGH,
        "str enum": Role.OWNER,
        "ratio": Ratio(0.25),
        "big": 2**64,
        "bytes": b"raw",
    },
    "floats": {"half": 0.5, "pi": 3.141592653589793, "percent": 12.5, "zero": 0.0, "big": 1e16, "sum": 0.1 + 0.2},
    "serializer containers": ReturnDict({"a": ReturnList([1, 2], serializer=None)}, serializer=None),
    "top-level list": [{"a": 1}, {"a": 2}],
    "non-string keys": {1: "one", None: "none", False: "no", 2.5: "half"},
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_same_bytes_as_drf(name) -> None:
    data = CORPUS[name]
    assert JSONRenderer().render(data, "application/json") == drf_renderers.JSONRenderer().render(
        data, "application/json"
    )


def test_an_indent_in_the_accept_header_is_drfs() -> None:
    data = {"a": [1, {"b": 2}]}
    expected = drf_renderers.JSONRenderer().render(data, "application/json; indent=4")
    assert b"\n    " in expected
    assert JSONRenderer().render(data, "application/json; indent=4") == expected


def test_what_drf_refuses_is_refused_the_same_way() -> None:
    for bad in ({"s": "\ud800"}, {"o": object()}, {"dataclass": Point(1)}):
        with pytest.raises(Exception) as drf_error:
            drf_renderers.JSONRenderer().render(bad, "application/json")
        with pytest.raises(type(drf_error.value)):
            JSONRenderer().render(bad, "application/json")
    assert JSONRenderer().render(None) == b""


def test_the_documented_differences() -> None:
    """Same meaning, different text: exponents, non-finite floats, plain enums."""
    ours, drf = JSONRenderer(), drf_renderers.JSONRenderer()
    assert ours.render({"tiny": 1e-05}) == b'{"tiny":0.00001}' and drf.render({"tiny": 1e-05}) == b'{"tiny":1e-05}'
    assert ours.render({"tiny": 1e-07}) == b'{"tiny":1e-7}' and drf.render({"tiny": 1e-07}) == b'{"tiny":1e-07}'
    assert ours.render({"nan": float("nan")}) == b'{"nan":null}'
    with pytest.raises(ValueError):
        drf.render({"nan": float("nan")})
    assert ours.render({"colour": Colour.RED}) == b'{"colour":"red"}'
    with pytest.raises(TypeError):
        drf.render({"colour": Colour.RED})


def test_it_is_the_apis_renderer(api_client) -> None:
    response = api_client.get("/api/v1/health/")
    assert type(response.accepted_renderer) is JSONRenderer
    assert response.content == b'{"status":"ok"}'
