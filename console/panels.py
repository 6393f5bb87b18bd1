"""What the user page shows beside the profile: plan, usage against limits, auth events, projects.

Each panel reads another app defensively (``apps.get_model`` / registries), so the page works
before and after those apps land; apps add panels with ``console.registry.register_user_panel``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models

from core.registry import usage_providers

from .registry import Panel, register_user_panel, user_panels

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


def entitlements(user: Any) -> Any:
    from billing.selectors import entitlements_for_user

    return entitlements_for_user(user=user)


def usage_against_limits(user: Any, ents: Any) -> list[Usage]:
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


def subscriptions(user: Any) -> list[dict]:
    """The user's Stripe subscriptions as dj-stripe stores them (newest first)."""
    from djstripe.models import Subscription

    out = []
    for sub in Subscription.objects.filter(customer__subscriber=user).order_by("-created")[:10]:
        data = sub.stripe_data or {}
        items = (data.get("items") or {}).get("data") or []
        price = (items[0].get("price") or items[0].get("plan") or {}) if items else {}
        out.append(
            {
                "id": sub.id,
                "status": data.get("status", ""),
                "price": price.get("nickname") or price.get("lookup_key") or price.get("id") or "",
                "current_period_end": sub.current_period_end,
                "cancel_at_period_end": data.get("cancel_at_period_end", False),
            }
        )
    return out


def _model(label: str) -> Any:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _field_names(model: Any) -> list[str]:
    return [f.name for f in model._meta.concrete_fields]


def auth_events_panel(user: Any) -> Panel | None:
    """The last auth events of ``accounts.AuthEvent`` when that model exists (None otherwise)."""
    model = _model("accounts.AuthEvent")
    if model is None or "user" not in _field_names(model):
        return None
    time_field = next(
        (f.name for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)), model._meta.pk.name
    )
    columns = [
        f.name
        for f in model._meta.concrete_fields
        if not f.is_relation and not f.primary_key and not isinstance(f, (models.TextField, models.JSONField))
    ][:6]
    if time_field in columns:
        columns.remove(time_field)
    columns.insert(0, time_field)
    rows = [list(r) for r in model.objects.filter(user=user).order_by(f"-{time_field}").values_list(*columns)[:10]]
    return Panel(title="Recent auth events", columns=columns, rows=rows, empty="No auth events recorded.")


def projects_panel(user: Any) -> Panel | None:
    """Projects the user owns when ``projects.Project`` has an ``owner`` (the projects app may replace it)."""
    model = _model("projects.Project")
    if model is None or "owner" not in _field_names(model):
        return Panel(title="Projects owned", empty="The projects app reports nothing here yet.")
    names = _field_names(model)
    columns = [c for c in ("name", "created_at") if c in names] or [model._meta.pk.name]
    qs = model.objects.filter(owner=user)
    total = qs.count()
    rows = [
        list(r) for r in qs.order_by(*(["-created_at"] if "created_at" in names else [])).values_list(*columns)[:20]
    ]
    return Panel(title=f"Projects owned ({total})", columns=columns, rows=rows, empty="No projects.")


def register_builtin_panels() -> None:
    register_user_panel("auth_events", auth_events_panel, order=30)
    register_user_panel("projects", projects_panel, order=40)


def panels_for(user: Any, viewer: Any) -> list[Panel]:
    out = []
    for panel in user_panels():
        if panel.permission and not viewer.has_perm(panel.permission):
            continue
        try:
            result = panel.fn(user)
        except Exception:  # noqa: BLE001
            logger.exception("user panel %s failed", panel.name)
            result = Panel(title=panel.name.replace("_", " ").capitalize(), empty="This panel failed to load.")
        if result is not None:
            out.append(result)
    return out
