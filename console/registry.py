"""Registries through which other apps put figures on the dashboard and panels on the user page.

The console sits at the top of the layering: it reads other apps only through what they register
here (in their ``AppConfig.ready`` or an ``<app>/dashboard.py`` module, which the console imports
at start-up), so this module imports no model and no other app.

- ``register_metric(name, fn, ...)``: a dashboard figure. ``fn()`` returns plain data whose shape
  depends on ``kind``: ``"series"`` a list of ``(date, number)`` (drawn as bars or a line),
  ``"breakdown"`` a list of ``(label, number)`` (horizontal bars), ``"value"`` a number or a list of
  ``(label, number)``. Registering an existing name replaces it (the console ships placeholders
  for figures other apps own: ``ai_tokens_per_day``, ``ai_cost_per_day``, ``storage_used``).
- ``register_failure_source(name, fn)``: ``fn(since) -> int`` failures since a datetime, added to
  the "failed tasks (24 h)" figure.
- ``register_user_panel(name, fn, ...)``: ``fn(user) -> Panel`` shown on the user's admin page
  (the projects app registers ``projects``: the projects the user owns).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[[], Any] | None
    title: str
    kind: str = "value"  # series | breakdown | value
    chart: str = "bar"  # for series: bar | line
    unit: str = ""  # shown after the figures ("USD", "tokens", "bytes")
    permission: str | None = None  # "app_label.codename" the viewer needs, None for every staff member
    order: int = 100
    help: str = ""
    link: str = ""  # admin URL name (e.g. "admin:djstripe_webhookeventtrigger_changelist") or a path
    link_query: str = ""


@dataclass
class Panel:
    """A table on the user page: ``rows`` are lists of cells matching ``columns``."""

    title: str
    columns: Sequence[str] = ()
    rows: list[list[Any]] = field(default_factory=list)
    empty: str = "Nothing yet."
    note: str = ""


@dataclass(frozen=True)
class UserPanel:
    name: str
    fn: Callable[[Any], Panel | None]
    order: int = 100
    permission: str | None = None


KINDS = ("series", "breakdown", "value")
_metrics: dict[str, Metric] = {}
_failure_sources: dict[str, Callable[[datetime], int]] = {}
_user_panels: dict[str, UserPanel] = {}


def register_metric(
    name: str,
    fn: Callable[[], Any] | None,
    *,
    title: str,
    kind: str = "value",
    chart: str = "bar",
    unit: str = "",
    permission: str | None = None,
    order: int = 100,
    help: str = "",  # noqa: A002 — the word staff read on the card
    link: str = "",
    link_query: str = "",
) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    _metrics[name] = Metric(name, fn, title, kind, chart, unit, permission, order, help, link, link_query)


def metrics() -> list[Metric]:
    return sorted(_metrics.values(), key=lambda m: (m.order, m.name))


def register_failure_source(name: str, fn: Callable[[datetime], int]) -> None:
    _failure_sources[name] = fn


def failure_sources() -> dict[str, Callable[[datetime], int]]:
    return dict(_failure_sources)


def register_user_panel(
    name: str, fn: Callable[[Any], Panel | None], *, order: int = 100, permission: str | None = None
) -> None:
    _user_panels[name] = UserPanel(name, fn, order, permission)


def user_panels() -> list[UserPanel]:
    return sorted(_user_panels.values(), key=lambda p: (p.order, p.name))
