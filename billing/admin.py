"""Admin: the plan catalogue (editable), and the curated, read-only part of dj-stripe's mirror.

Stripe is the source of truth for the mirror: a row added or edited here would be one Stripe never
heard of. So staff see customers, subscriptions, invoices, prices, products, events and webhook
endpoints read-only (customers and subscriptions with filters, useful columns and a "Resync from
Stripe" action, which asks Stripe); the rest of the mirror (charges, payouts, mandates, …) is left
off the index and open to superusers only, read-only too. dj-stripe's own admin actions (cancel,
sync every object) and the unchecked URL they post to are not offered.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from djstripe import models as djstripe_models
from djstripe.admin.admin import CustomerAdmin as DjstripeCustomerAdmin
from djstripe.admin.admin import InvoiceAdmin as DjstripeInvoiceAdmin
from djstripe.admin.admin import SubscriptionAdmin as DjstripeSubscriptionAdmin
from djstripe.admin.utils import ReadOnlyMixin

from . import stripe_data
from .models import Plan, ProcessedStripeEvent, StripeErasure
from .selectors import billing_summary_for_user
from .services import stripe_sync, subscription_resync

# Who may run an action that asks Stripe (the staff console's permission; superusers hold every one).
RESYNC_PERMISSION = "console.resync_billing"


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "stripe_price_lookup_key",
        "max_projects",
        "max_members_per_project",
        "max_storage_bytes",
        "ai_tokens_per_month",
        "api_rate_tier",
        "sort_order",
        "active",
    )
    list_editable = ("sort_order", "active")
    list_filter = ("active", "api_rate_tier")
    search_fields = ("code", "name", "stripe_price_lookup_key", "stripe_price_id")
    ordering = ("sort_order", "id")


@admin.register(ProcessedStripeEvent)
class ProcessedStripeEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The exactly-once ledger of our webhook reactions: a deleted row would let a replayed event
    run its reaction (and its emails) again, so no one deletes here either."""

    list_display = ("event_id", "type", "processed_at")
    list_filter = ("type",)
    search_fields = ("event_id",)
    date_hierarchy = "processed_at"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StripeErasure)
class StripeErasureAdmin(admin.ModelAdmin):
    list_display = ("customer_id", "created_at", "completed_at", "attempts", "last_error")
    list_filter = (("completed_at", admin.EmptyFieldListFilter),)
    search_fields = ("customer_id",)
    readonly_fields = ("customer_id", "created_at", "completed_at", "attempts", "last_error")


# ------------------------------------------------------------------------------------------------
# dj-stripe's models, extended
# ------------------------------------------------------------------------------------------------
class SubscriptionStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"
    STATUSES = ("active", "trialing", "past_due", "unpaid", "incomplete", "incomplete_expired", "canceled", "paused")

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(s, s.replace("_", " ")) for s in self.STATUSES]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(stripe_data__status=self.value())
        return queryset


class SubscriptionPlanFilter(admin.SimpleListFilter):
    title = "plan"
    parameter_name = "plan"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(p.code, p.name) for p in Plan.objects.exclude(stripe_price_lookup_key="", stripe_price_id="")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if not self.value():
            return queryset
        plan = Plan.objects.filter(code=self.value()).first()
        if plan is None:
            return queryset.none()
        if plan.stripe_price_id:
            return queryset.filter(stripe_data__items__data__0__price__id=plan.stripe_price_id)
        return queryset.filter(stripe_data__items__data__0__price__lookup_key=plan.stripe_price_lookup_key)


class StripeMirrorAdmin(ReadOnlyMixin):
    """Read-only for everyone (no add or change: dj-stripe's mixin; no delete); only our own
    actions, which go through Stripe, are offered."""

    own_actions: tuple[str, ...] = ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_resync_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RESYNC_PERMISSION)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        return {name: action for name, action in actions.items() if name in self.own_actions}

    def get_urls(self) -> list:
        # dj-stripe's action view checks no permission (any staff member could cancel anything).
        urls = super().get_urls()  # type: ignore[misc]
        return [url for url in urls if getattr(url, "name", None) != "djstripe_custom_action"]


class HiddenStripeMirrorAdmin(StripeMirrorAdmin):
    """Off the index; superusers only."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser


def _resync_each(model_admin: admin.ModelAdmin, request: HttpRequest, ids: Any, resync: Any) -> None:
    fixed = errors = 0
    for object_id in ids:
        try:
            changed, failed = resync(object_id)
            fixed += changed
            errors += failed
        except Exception as exc:  # noqa: BLE001 - shown to staff, the others still run
            errors += 1
            model_admin.message_user(request, f"{object_id}: {exc}", messages.ERROR)
    model_admin.message_user(request, f"Resynced from Stripe: {fixed} fixed, {errors} error(s).")


def _subscription(obj: djstripe_models.Subscription) -> stripe_data.Subscription:
    return stripe_data.Subscription.from_stripe(obj.stripe_data)


admin.site.unregister(djstripe_models.Subscription)
admin.site.unregister(djstripe_models.Customer)
admin.site.unregister(djstripe_models.Invoice)


@admin.register(djstripe_models.Subscription)
class SubscriptionAdmin(StripeMirrorAdmin, DjstripeSubscriptionAdmin):
    list_display = ("customer", "status_display", "plan_display", "period_end_display", "cancel_at_period_end_display")
    list_filter = (SubscriptionStatusFilter, SubscriptionPlanFilter)
    list_select_related = ("customer", "customer__subscriber", "djstripe_owner_account")
    search_fields = ("customer__email", "customer__id", "customer__subscriber__email")
    actions = ["resync_from_stripe"]
    own_actions = ("resync_from_stripe",)

    @admin.display(description="status")
    def status_display(self, obj: djstripe_models.Subscription) -> str:
        return _subscription(obj).status or "—"

    @admin.display(description="price")
    def plan_display(self, obj: djstripe_models.Subscription) -> str:
        sub = _subscription(obj)
        return sub.price_lookup_key or sub.price_id or "—"

    @admin.display(description="period end")
    def period_end_display(self, obj: djstripe_models.Subscription) -> Any:
        return _subscription(obj).current_period_end

    @admin.display(description="cancels at period end", boolean=True)
    def cancel_at_period_end_display(self, obj: djstripe_models.Subscription) -> bool:
        return _subscription(obj).cancel_at_period_end

    @admin.action(description="Resync from Stripe", permissions=["resync"])
    def resync_from_stripe(self, request: HttpRequest, queryset: QuerySet) -> None:
        def resync(sid: str) -> tuple[int, int]:
            return int(subscription_resync(subscription_id=sid)[1]), 0

        _resync_each(self, request, queryset.values_list("id", flat=True), resync)


@admin.register(djstripe_models.Customer)
class CustomerAdmin(StripeMirrorAdmin, DjstripeCustomerAdmin):
    list_display = ("subscriber", "email", "date_purged")
    list_select_related = ("subscriber", "default_payment_method", "djstripe_owner_account")
    search_fields = ("email", "subscriber__email")
    readonly_fields = ("billing_summary",)
    actions = ["resync_from_stripe"]
    own_actions = ("resync_from_stripe",)

    @admin.display(description="entitlements and usage")
    def billing_summary(self, obj: djstripe_models.Customer) -> str:
        if obj.subscriber is None:
            return "—"
        summary = billing_summary_for_user(user=obj.subscriber)
        return format_html("<pre>{}</pre>", json.dumps(summary, indent=2, default=str))

    @admin.action(description="Resync from Stripe", permissions=["resync"])
    def resync_from_stripe(self, request: HttpRequest, queryset: QuerySet) -> None:
        def resync(cid: str) -> tuple[int, int]:
            result = stripe_sync(customer_id=cid)
            return result.fixed, result.errors

        _resync_each(self, request, queryset.values_list("id", flat=True), resync)


@admin.register(djstripe_models.Invoice)
class InvoiceAdmin(StripeMirrorAdmin, DjstripeInvoiceAdmin):
    list_display = ("number_display", "status_display", "amount_due_display", "currency_display", "customer")
    list_select_related = ("customer", "customer__subscriber", "djstripe_owner_account")
    search_fields = ("customer__email", "customer__subscriber__email")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("customer__subscriber")

    @admin.display(description="number")
    def number_display(self, obj: djstripe_models.Invoice) -> str:
        return stripe_data.Invoice.from_stripe(obj.stripe_data).number or obj.id

    @admin.display(description="status")
    def status_display(self, obj: djstripe_models.Invoice) -> str:
        return stripe_data.Invoice.from_stripe(obj.stripe_data).status or "—"

    @admin.display(description="amount due")
    def amount_due_display(self, obj: djstripe_models.Invoice) -> Any:
        return stripe_data.Invoice.from_stripe(obj.stripe_data).amount_due

    @admin.display(description="currency")
    def currency_display(self, obj: djstripe_models.Invoice) -> str:
        return stripe_data.Invoice.from_stripe(obj.stripe_data).currency


# The rest of the curated section: dj-stripe's own admins, read-only. Everything else of the
# mirror (webhook event triggers excepted: the console shows those) is hidden.
CURATED = (
    djstripe_models.Customer,
    djstripe_models.Subscription,
    djstripe_models.Invoice,
    djstripe_models.Price,
    djstripe_models.Product,
    djstripe_models.Event,
    djstripe_models.WebhookEndpoint,
    djstripe_models.WebhookEventTrigger,
)


def _restrict_mirror(site: admin.AdminSite) -> None:
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label != "djstripe" or isinstance(model_admin, StripeMirrorAdmin):
            continue
        mixin = StripeMirrorAdmin if model in CURATED else HiddenStripeMirrorAdmin
        restricted = type(type(model_admin).__name__, (mixin, type(model_admin)), {"__module__": __name__})
        site.unregister(model)
        site.register(model, restricted)


_restrict_mirror(admin.site)
