"""The dashboard: the figures staff see on the admin index, each a plain function returning data.

Billing's figures (subscriptions by plan, MRR, failed webhooks) are billing's selectors; the rest
are read here from the apps that own them (the console is the top layer and may read every app).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from assistant.models import Message
from billing import selectors as billing_selectors
from notifications.models import EmailDelivery
from projects.models import File

from . import charts
from .models import TaskFailure

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Metric:
    """A card. ``fn()`` returns data shaped by ``kind``: ``"series"`` a list of ``(date, number)``
    (bars, or a line with ``chart="line"``), ``"breakdown"`` a list of ``(label, number)``
    (horizontal bars), ``"value"`` a number or a list of ``(label, number)``."""

    name: str
    fn: Callable[[], Any]
    title: str
    kind: str = "value"  # series | breakdown | value
    chart: str = "bar"  # for series: bar | line
    unit: str = ""  # shown after the figures ("USD", "tokens", "bytes")
    permission: str | None = None  # "app_label.codename" the viewer needs, None for every staff member
    help: str = ""
    link: str = ""  # admin URL name (e.g. "admin:djstripe_webhookeventtrigger_changelist") or a path
    link_query: str = ""


def _days(days: int, today: date) -> list[date]:
    return [today - timedelta(days=days - 1 - i) for i in range(days)]


def signups_per_day(*, days: int = 30, now: datetime | None = None) -> list[tuple[date, int]]:
    """New accounts per UTC day over the last ``days`` days, today included (zeros filled in)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    start_day = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(start_day, datetime.min.time()))
    rows = (
        get_user_model()
        .objects.filter(date_joined__gte=start)
        .annotate(day=TruncDate("date_joined"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {row["day"]: row["n"] for row in rows}
    return [(day, counts.get(day, 0)) for day in _days(days, today)]


def _ai_usage_per_day(*, days: int = 30, now: datetime | None = None) -> list[tuple[date, int, Decimal]]:
    """Tokens (input, output, cache reads and writes) and cost of assistant replies per UTC day."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    start = timezone.make_aware(datetime.combine(today - timedelta(days=days - 1), datetime.min.time()))
    rows = (
        Message.objects.filter(created_at__gte=start, role="assistant")
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            tokens=Sum(F("input_tokens") + F("output_tokens") + F("cache_read_tokens") + F("cache_creation_tokens")),
            cost=Sum("cost_usd"),
        )
        .order_by()
    )
    by_day = {row["day"]: (int(row["tokens"] or 0), Decimal(row["cost"] or 0)) for row in rows}
    return [(day, *by_day.get(day, (0, Decimal(0)))) for day in _days(days, today)]


def ai_tokens_per_day(*, days: int = 30, now: datetime | None = None) -> list[tuple[date, int]]:
    return [(day, tokens) for day, tokens, _ in _ai_usage_per_day(days=days, now=now)]


def ai_cost_per_day(*, days: int = 30, now: datetime | None = None) -> list[tuple[date, Decimal]]:
    return [(day, cost.quantize(Decimal("0.0001"))) for day, _, cost in _ai_usage_per_day(days=days, now=now)]


def storage_used() -> int:
    """Bytes of every uploaded (ready) project file."""
    return int(File.objects.filter(status="ready").aggregate(total=Sum("size"))["total"] or 0)


def failed_webhooks_24h(*, now: datetime | None = None) -> int:
    return billing_selectors.failed_webhook_count(since=(now or timezone.now()) - timedelta(hours=24))


# Failures counted by the "failed tasks" card besides recorded task failures: name → fn(since) -> int.
FAILURE_SOURCES: dict[str, Callable[[datetime], int]] = {
    "stripe webhooks": lambda since: billing_selectors.failed_webhook_count(since=since),
    "email deliveries": lambda since: EmailDelivery.objects.filter(status="failed", created_at__gte=since).count(),
    "stripe erasures": lambda since: billing_selectors.failed_stripe_erasure_count(since=since),
}


def failed_tasks_24h(*, now: datetime | None = None) -> list[tuple[str, int]]:
    """Failures in the last 24 h per source: recorded TaskFailures plus every failure source."""
    since = (now or timezone.now()) - timedelta(hours=24)
    rows = [("recorded tasks", TaskFailure.objects.filter(occurred_at__gte=since).count())]
    for name, fn in FAILURE_SOURCES.items():
        try:
            rows.append((name, int(fn(since))))
        except Exception:  # noqa: BLE001 — one broken source must not hide the others
            logger.exception("failure source %s raised", name)
    return rows


BILLING_METRICS = "console.view_billing_metrics"
METRICS: tuple[Metric, ...] = (
    Metric("signups_per_day", signups_per_day, "Signups per day (30 days)", kind="series", unit="users"),
    Metric(
        "active_subscriptions_by_plan",
        billing_selectors.active_subscriptions_by_plan,
        "Active subscriptions by plan",
        kind="breakdown",
        unit="subscriptions",
        permission=BILLING_METRICS,
        link="admin:djstripe_subscription_changelist",
    ),
    Metric(
        "mrr",
        billing_selectors.monthly_recurring_revenue,
        "Monthly recurring revenue",
        permission=BILLING_METRICS,
        help="Active, trialing and past-due subscriptions, each price normalised to a month.",
    ),
    Metric("ai_tokens_per_day", ai_tokens_per_day, "AI tokens per day", kind="series", chart="line", unit="tokens"),
    Metric("ai_cost_per_day", ai_cost_per_day, "AI estimated cost per day", kind="series", unit="USD"),
    Metric(
        "storage_used", storage_used, "Storage used", unit="bytes", help="Uploaded files (pending uploads not counted)."
    ),
    Metric(
        "failed_webhooks_24h",
        failed_webhooks_24h,
        "Failed webhooks (24 h)",
        link="admin:djstripe_webhookeventtrigger_changelist",
        link_query="status=failed",
    ),
    Metric("failed_tasks_24h", failed_tasks_24h, "Failed tasks (24 h)", link="admin:console_taskfailure_changelist"),
)


@dataclass
class Card:
    metric: Metric
    data: Any = None
    chart: dict | None = None
    total: Any = None
    state: str = "ok"  # ok | error

    @property
    def name(self) -> str:
        return self.metric.name

    @property
    def href(self) -> str:
        link = self.metric.link
        if not link or link.startswith("/"):
            return link
        try:
            url = reverse(link)
        except NoReverseMatch:
            return ""
        return f"{url}?{self.metric.link_query}" if self.metric.link_query else url


def _card(metric: Metric) -> Card:
    try:
        data = metric.fn()
    except Exception:  # noqa: BLE001 — one failing figure must not take the dashboard down
        logger.exception("dashboard metric %s failed", metric.name)
        return Card(metric, state="error")
    card = Card(metric, data=data)
    if metric.kind == "series":
        points = [(d.strftime("%b %d") if hasattr(d, "strftime") else str(d), v) for d, v in data]
        card.chart = charts.line_chart(points) if metric.chart == "line" else charts.bar_chart(points)
        card.total = sum(v for _, v in data)
    elif metric.kind == "breakdown":
        card.chart = charts.hbar_chart([(str(k), v) for k, v in data])
        card.total = sum(v for _, v in data)
    else:
        card.total = data if not isinstance(data, list) else None
    return card


def dashboard_for(user: Any) -> list[Card]:
    """The cards this staff member may see, each computed (errors isolated per card)."""
    return [_card(m) for m in METRICS if m.permission is None or user.has_perm(m.permission)]
