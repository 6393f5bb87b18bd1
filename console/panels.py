"""What the user page shows beside the profile: plan, subscriptions, usage against limits, auth
events, projects. Each part reads the app that owns it (the console is the top layer)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from accounts.models import AuthEvent
from billing.entitlements import Entitlements
from billing.selectors import subscription_list_for_user
from core.registry import usage_providers
from projects.models import Project

logger = logging.getLogger(__name__)

# Usage provider name (core.registry.register_usage) → the Entitlements field that limits it.
USAGE_LIMITS = {
    "projects": ("Projects", "max_projects", "count"),
    "storage_bytes": ("Storage", "max_storage_bytes", "bytes"),
    "ai_tokens_month": ("AI tokens this month", "ai_tokens_per_month", "count"),
}


@dataclass
class Usage:
    name: str
    label: str
    used: int | None
    limit: int | None
    unit: str

    @property
    def percent(self) -> int | None:
        if self.used is None or not self.limit:
            return None
        return min(round(100 * self.used / self.limit), 999)

    @property
    def over(self) -> bool:
        return self.used is not None and self.limit is not None and self.used > self.limit


@dataclass
class Panel:
    """A table on the user page: ``rows`` are lists of cells matching ``columns``."""

    title: str
    columns: Sequence[str] = ()
    rows: list[list[Any]] = field(default_factory=list)
    empty: str = "Nothing yet."
    note: str = ""


def usage_against_limits(user: Any, ents: Entitlements) -> list[Usage]:
    """Every registered usage figure next to the plan limit it counts against."""
    providers = usage_providers()
    rows = []
    for name in list(USAGE_LIMITS) + sorted(set(providers) - set(USAGE_LIMITS)):
        label, limit_field, unit = USAGE_LIMITS.get(name, (name.replace("_", " ").capitalize(), "", "count"))
        limit = getattr(ents, limit_field, None) if limit_field else None
        used: int | None = None
        if name in providers:
            try:
                used = int(providers[name](user))
            except Exception:  # noqa: BLE001
                logger.exception("usage provider %s failed", name)
        rows.append(Usage(name, label, used, limit, unit))
    return rows


@dataclass(frozen=True)
class SubscriptionRow:
    id: str
    status: str
    price: str
    current_period_end: datetime | None  # the renewal date (on the items in the pinned API version)
    cancel_at_period_end: bool


def subscriptions(user: Any) -> list[SubscriptionRow]:
    """The user's Stripe subscriptions as mirrored (newest first)."""
    return [
        SubscriptionRow(
            id=sub.id,
            status=sub.status,
            price=(sub.price.nickname or sub.price.lookup_key or sub.price.id) if sub.price else "",
            current_period_end=sub.current_period_end,
            cancel_at_period_end=sub.cancel_at_period_end,
        )
        for sub in subscription_list_for_user(user=user)
    ]


AUTH_EVENT_COLUMNS = ("created_at", "type", "email", "ip", "user_agent")


def auth_events_panel(user: Any) -> Panel:
    """The user's last ten auth events."""
    rows = [
        list(row)
        for row in AuthEvent.objects.filter(user=user).order_by("-created_at").values_list(*AUTH_EVENT_COLUMNS)[:10]
    ]
    return Panel(title="Recent auth events", columns=AUTH_EVENT_COLUMNS, rows=rows, empty="No auth events recorded.")


def projects_panel(user: Any) -> Panel:
    """The projects the user owns (the newest twenty, and how many in all)."""
    owned = Project.objects.filter(owner=user)
    rows = [list(row) for row in owned.order_by("-created_at").values_list("name", "created_at")[:20]]
    return Panel(
        title=f"Projects owned ({owned.count()})", columns=("name", "created_at"), rows=rows, empty="No projects."
    )


USER_PANELS: tuple[Callable[[Any], Panel], ...] = (auth_events_panel, projects_panel)


def panels_for(user: Any) -> list[Panel]:
    """Every panel of the user page; one that fails says so instead of taking the page down."""
    out = []
    for panel in USER_PANELS:
        try:
            out.append(panel(user))
        except Exception:  # noqa: BLE001
            logger.exception("user panel %s failed", panel.__name__)
            title = panel.__name__.removesuffix("_panel").replace("_", " ").capitalize()
            out.append(Panel(title=title, empty="This panel failed to load."))
    return out
