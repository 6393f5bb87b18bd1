"""Writes of billing: the Stripe customer, Checkout and Portal sessions, re-syncing our mirror of
Stripe (drift repair), and account erasure. Every Stripe call goes through ``billing.stripe_client``.

Stripe is never called inside a transaction that we open: calls happen first and the database
write that records their result follows (dj-stripe's webhook processing is the one exception — it
runs our reactions inside its own transaction, see ``billing.webhooks``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from djstripe.models import Customer, IdempotencyKey, Invoice, Price, Subscription
from djstripe.settings import djstripe_settings

from core.errors import InvalidInput

from . import stripe_client, stripe_data
from .errors import InvalidRedirectUrl, PaymentProviderError, PaymentProviderNotFound, SubscriptionExists
from .models import Plan, StripeErasure
from .selectors import current_billing, customer_for_user, plan_get_purchasable

logger = logging.getLogger(__name__)
T = TypeVar("T")

SUBSCRIBER_KEY = "djstripe_subscriber"  # dj-stripe links a Stripe customer to our user by this metadata key


# ------------------------------------------------------------------------------------------------
# Customer
# ------------------------------------------------------------------------------------------------
def customer_get_or_create(*, user: Any) -> Customer:
    """The user's Stripe customer, created once and reused.

    Race-safe without holding a lock across the Stripe call: concurrent first requests share one
    idempotency key (dj-stripe's IdempotencyKey row, unique per user and mode; purging a customer
    drops it so a later customer is a new one), so Stripe answers both with the same customer, and
    the local row is get-or-created by its Stripe id.
    """
    existing = customer_for_user(user=user)
    if existing is not None:
        return existing
    livemode = bool(settings.STRIPE_LIVE_MODE)
    try:
        key = djstripe_settings.get_idempotency_key("customer", f"create:{user.pk}", livemode)
    except IntegrityError:  # a concurrent request created the key row first: read it
        key = djstripe_settings.get_idempotency_key("customer", f"create:{user.pk}", livemode)
    created = stripe_client.create_customer(
        email=user.email,
        name=user.get_full_name(),
        metadata={SUBSCRIBER_KEY: str(user.pk)},
        idempotency_key=key,
    )
    customer = Customer.sync_from_stripe_data(created.raw)
    if customer.subscriber_id != user.pk:
        Customer.objects.filter(pk=customer.pk).update(subscriber=user)
        customer.subscriber = user
    return customer


def customer_link_subscriber(*, customer_id: str, user: Any) -> None:
    """Link a customer created outside our API (or not yet mirrored) to the user who paid; a
    customer already linked to someone keeps its subscriber."""
    Customer.objects.filter(id=customer_id, subscriber__isnull=True).update(subscriber=user)


# ------------------------------------------------------------------------------------------------
# Checkout and portal
# ------------------------------------------------------------------------------------------------
def _allowed_origins() -> set[str]:
    return {origin.rstrip("/").lower() for origin in settings.FRONTEND_ORIGINS if origin}


def validate_redirect_url(url: str, *, field: str) -> str:
    """Reject any redirect that is not on one of settings.FRONTEND_ORIGINS (no open redirects)."""
    parts = urlsplit(url or "")
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if parts.scheme not in ("http", "https") or not parts.netloc or origin not in _allowed_origins():
        raise InvalidRedirectUrl(fields={field: ["Must be a URL on an allowed frontend origin."]})
    return url


def plan_price_id(*, plan: Plan) -> str:
    """The Stripe price to sell ``plan`` with: the stored id, else the active price of its lookup key
    (mirrored price first, else asked of Stripe — so moving a lookup key to a new price just works)."""
    if plan.stripe_price_id:
        return plan.stripe_price_id
    local = (
        Price.objects.filter(lookup_key=plan.stripe_price_lookup_key, active=True).order_by("-created").first()
        if plan.stripe_price_lookup_key
        else None
    )
    if local is not None:
        return local.id
    found = stripe_client.find_price(lookup_key=plan.stripe_price_lookup_key)
    if found is None:
        raise PaymentProviderError(f"The plan {plan.code!r} has no active price at the payment provider.")
    try:
        Price.sync_from_stripe_data(found.raw)
    except Exception:  # noqa: BLE001 - the mirror is a cache for plans/; checkout does not need it
        logger.warning("could not mirror price %s", found.id, exc_info=True)
    return found.id


def checkout_session_create(
    *,
    user: Any,
    plan_code: str,
    success_url: str | None = None,
    cancel_url: str | None = None,
    client_key: str | None = None,
) -> str:
    """URL of a Stripe Checkout Session that subscribes ``user`` to ``plan_code``."""
    plan = plan_get_purchasable(code=plan_code)
    if plan is None:
        raise InvalidInput("Unknown or free plan.", code="invalid_plan", fields={"plan": ["Choose a paid plan."]})
    success = validate_redirect_url(
        success_url or f"{settings.FRONTEND_URL}/billing/success?session_id={{CHECKOUT_SESSION_ID}}",
        field="success_url",
    )
    cancel = validate_redirect_url(cancel_url or f"{settings.FRONTEND_URL}/billing", field="cancel_url")
    billing = current_billing(user=user)
    if billing.entitled:
        raise SubscriptionExists()
    customer = customer_get_or_create(user=user)
    price_id = plan_price_id(plan=plan)
    key = f"checkout:{user.pk}:{client_key}" if client_key else f"checkout:{user.pk}:{uuid.uuid4()}"
    session = stripe_client.create_checkout_session(
        customer_id=customer.id,
        price_id=price_id,
        success_url=success,
        cancel_url=cancel,
        client_reference_id=str(user.pk),
        metadata={"user_id": str(user.pk), "plan": plan.code},
        idempotency_key=key,
    )
    return session.url


def portal_session_create(*, user: Any, return_url: str | None = None, client_key: str | None = None) -> str:
    """URL of a Stripe Billing Portal session (change plan or card, cancel, see invoices)."""
    url = validate_redirect_url(return_url or f"{settings.FRONTEND_URL}/billing", field="return_url")
    customer = customer_get_or_create(user=user)
    key = f"portal:{user.pk}:{client_key}" if client_key else f"portal:{user.pk}:{uuid.uuid4()}"
    return stripe_client.create_portal_session(customer_id=customer.id, return_url=url, idempotency_key=key).url


# ------------------------------------------------------------------------------------------------
# Drift repair: Stripe is the truth, our mirror follows
# ------------------------------------------------------------------------------------------------
def _fingerprint(data: dict[str, Any] | None) -> tuple[Any, ...]:
    if not data:
        return ()
    sub = stripe_data.Subscription.from_stripe(data)
    return (
        sub.status,
        (sub.price_id, sub.price_lookup_key),
        sub.cancel_at_period_end,
        sub.current_period_end,
        sub.customer_id,
    )


def subscription_store(*, remote: stripe_data.Subscription) -> tuple[Subscription, bool]:
    """Write Stripe's current state of a subscription to our mirror. Returns (row, changed)."""
    before = Subscription.objects.filter(id=remote.id).values_list("stripe_data", flat=True).first()
    row = Subscription.sync_from_stripe_data(remote.raw)
    return row, _fingerprint(before) != _fingerprint(row.stripe_data)


def subscription_resync(*, subscription_id: str) -> tuple[Subscription | None, bool]:
    """Re-read one subscription from Stripe and store it (events may arrive out of order: the
    stored state is always Stripe's current one, never the event's snapshot)."""
    try:
        remote = stripe_client.retrieve_subscription(subscription_id)
    except PaymentProviderNotFound:
        # Gone at Stripe: what we hold can no longer grant anything.
        row = Subscription.objects.filter(id=subscription_id).first()
        if row is None or row.stripe_data.get("status") == "canceled":
            return row, False
        _mark_canceled(row)
        return row, True
    return subscription_store(remote=remote)


def _mark_canceled(row: Subscription) -> None:
    row.stripe_data = {**row.stripe_data, "status": "canceled"}
    row.save(update_fields=["stripe_data", "djstripe_updated"])


def subscriptions_cancel_for_customer(*, customer_id: str) -> int:
    """Mark every mirrored subscription of a customer that Stripe deleted (or we erased) canceled,
    so nothing we hold still grants a plan (Stripe cancels them too). Returns how many changed."""
    rows = list(Subscription.objects.filter(customer__id=customer_id).exclude(stripe_data__status="canceled"))
    for row in rows:
        _mark_canceled(row)
    return len(rows)


def customer_resync(*, customer_id: str) -> tuple[Customer | None, bool]:
    """Re-read one customer from Stripe; a customer deleted at Stripe is purged locally."""
    try:
        remote = stripe_client.retrieve_customer(customer_id)
    except PaymentProviderNotFound:
        remote = None
    local = Customer.objects.filter(id=customer_id).first()
    if remote is None or remote.deleted:
        if local is None or local.date_purged is not None:
            return local, False
        if local.subscriber_id is not None:
            # As dj-stripe's purge does: the user's next customer must not replay this one's creation.
            IdempotencyKey.objects.filter(action=f"customer:create:{local.subscriber_id}").delete()
        local.subscriber = None
        local.date_purged = timezone.now()
        local.stripe_data = {**local.stripe_data, "deleted": True}
        local.save(update_fields=["subscriber", "date_purged", "stripe_data", "djstripe_updated"])
        return local, True
    before = (local.email, local.stripe_data.get("metadata")) if local else None
    row = Customer.sync_from_stripe_data(remote.raw)
    return row, before != (row.email, row.stripe_data.get("metadata"))


@dataclass
class SyncResult:
    customers: int = 0
    subscriptions: int = 0
    fixed: int = 0
    errors: int = 0


def stripe_sync(
    *, customer_id: str | None = None, since: datetime | None = None, progress: Callable[[str], None] | None = None
) -> SyncResult:
    """Drift repair. Re-read from Stripe and fix our copy of:

    1. every subscription Stripe lists (all statuses; of ``customer_id`` only, or created on/after
       ``since``) — this also brings in subscriptions we never heard of;
    2. every local subscription still marked live that step 1 did not cover (Stripe may have
       cancelled it while a webhook was lost);
    3. every local customer (or ``customer_id``).
    Each object is handled on its own; a failure is counted and the run goes on.
    """
    say = progress or (lambda message: None)
    result = SyncResult()
    seen: set[str] = set()
    created_gte = int(since.timestamp()) if since else None

    erased = set(StripeErasure.objects.values_list("customer_id", flat=True))
    say("Listing subscriptions at Stripe…")
    for remote in stripe_client.list_subscriptions(customer_id=customer_id, created_gte=created_gte):
        seen.add(remote.id)
        if remote.customer_id in erased:  # an erased account's: never mirrored again
            continue
        result.subscriptions += 1
        _repair(result, say, f"subscription {remote.id}", _store_reported, remote)

    live = Subscription.objects.exclude(stripe_data__status__in=["canceled", "incomplete_expired"])
    if customer_id:
        live = live.filter(customer__id=customer_id)
    leftovers = [sid for sid in live.values_list("id", flat=True) if sid not in seen]
    if leftovers:
        say(f"Checking {len(leftovers)} local subscription(s) Stripe did not list…")
    for sid in leftovers:
        result.subscriptions += 1
        _repair(result, say, f"subscription {sid}", _resync_reported, sid)

    customers = Customer.objects.filter(date_purged__isnull=True)
    customers = customers.filter(id=customer_id) if customer_id else customers.exclude(subscriber=None)
    if since:
        customers = customers.filter(created__gte=since)
    ids = list(customers.values_list("id", flat=True))
    say(f"Checking {len(ids)} customer(s)…")
    for index, cid in enumerate(ids, start=1):
        result.customers += 1
        _repair(result, say, f"[{index}/{len(ids)}] customer {cid}", _customer_reported, cid)
    return result


# Each repairs one object and returns (what to report after its label, whether it changed anything).
def _store_reported(remote: stripe_data.Subscription) -> tuple[str, bool]:
    return f": {remote.status}", subscription_store(remote=remote)[1]


def _customer_reported(customer_id: str) -> tuple[str, bool]:
    return "", customer_resync(customer_id=customer_id)[1]


def _resync_reported(subscription_id: str) -> tuple[str, bool]:
    row, changed = subscription_resync(subscription_id=subscription_id)
    return f": {row.stripe_data.get('status') if row else '?'}", changed


def _repair(
    result: SyncResult, say: Callable[[str], None], label: str, repair: Callable[[T], tuple[str, bool]], target: T
) -> None:
    """Run one object's repair and count it; a failure is counted and reported, and the run goes on."""
    try:
        state, changed = repair(target)
    except Exception as exc:  # noqa: BLE001 - report and continue with the next object
        result.errors += 1
        say(f"  {label}: error {exc}")
        return
    result.fixed += int(changed)
    say(f"  {label}{state}{' (fixed)' if changed else ''}")


# ------------------------------------------------------------------------------------------------
# Account erasure (billing/gdpr.py is the eraser; these run after its commit and from the job)
# ------------------------------------------------------------------------------------------------
def stripe_erasure_run(*, customer_id: str) -> bool:
    """Delete the customer at Stripe (its subscriptions end at once; invoices stay at Stripe), then
    re-redact our mirror. Idempotent; returns True once done. A failure is recorded on the
    ``StripeErasure`` row and ``billing.jobs.sync_stripe`` retries it."""
    erasure = StripeErasure.objects.filter(customer_id=customer_id, completed_at__isnull=True).first()
    if erasure is None:
        return True
    try:
        stripe_client.delete_customer(customer_id, idempotency_key=f"erasure:delete:{customer_id}")
    except Exception as exc:  # noqa: BLE001 - recorded; the scheduled sync retries
        logger.error("stripe erasure of %s failed: %s", customer_id, exc)
        StripeErasure.objects.filter(pk=erasure.pk).update(attempts=erasure.attempts + 1, last_error=str(exc)[:500])
        return False
    with transaction.atomic():
        Customer.objects.filter(id=customer_id).update(date_purged=timezone.now(), subscriber=None)
        subscriptions_cancel_for_customer(customer_id=customer_id)
        mirror_forget_customer(customer_id=customer_id)
        StripeErasure.objects.filter(pk=erasure.pk).update(
            attempts=erasure.attempts + 1, completed_at=timezone.now(), last_error=""
        )
    return True


# Keys of Stripe objects that hold a person's details (any depth): emptied in our mirror.
PERSONAL_KEYS = frozenset(
    {
        "email",
        "name",
        "phone",
        "address",
        "shipping",
        "description",
        "metadata",
        "billing_details",
        "customer_email",
        "customer_name",
        "customer_phone",
        "customer_address",
        "customer_shipping",
        "customer_tax_ids",
        "customer_details",
        "receipt_email",
        "client_reference_id",
        "account_holder_name",
        "owner",
    }
)


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (None if k in PERSONAL_KEYS else _redacted(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def mirror_forget_customer(*, customer_id: str) -> None:
    """Redact our dj-stripe mirror of an erased customer: every row linked to it (customer,
    subscriptions, invoices, payment methods, charges…) keeps ids, amounts and dates but loses
    name, email, address, phone, billing details and metadata; the stored webhook events and their
    raw bodies that mention it are deleted (they are copies of Stripe's). Idempotent: the
    scheduled sync runs it again for recent erasures, since Stripe still sends events about a
    deleted customer (customer.deleted carries the full object) and dj-stripe mirrors them."""
    from django.apps import apps
    from django.db.models import TextField
    from django.db.models.functions import Cast
    from djstripe.models import Event, WebhookEventTrigger

    for model in apps.get_app_config("djstripe").get_models():
        field_names = {f.name for f in model._meta.concrete_fields}
        manager = model._default_manager
        if model is Customer:
            rows = manager.filter(id=customer_id)
        elif "customer" in field_names:
            rows = manager.filter(customer__id=customer_id)
        else:
            continue
        for pk, data in rows.values_list("pk", "stripe_data"):
            changes: dict[str, Any] = {"stripe_data": _redacted(data)}
            if "metadata" in field_names:
                changes["metadata"] = {}
            if model is Customer:
                changes["email"] = ""
            manager.filter(pk=pk).update(**changes)
    Event.objects.annotate(text=Cast("stripe_data", TextField())).filter(text__contains=customer_id).delete()
    WebhookEventTrigger.objects.filter(body__contains=customer_id).delete()


def invoice_as_dict(invoice: Invoice) -> dict[str, Any]:
    data = stripe_data.Invoice.from_stripe(invoice.stripe_data or {})
    return {
        "id": invoice.id,
        "number": data.number,
        "status": data.status,
        "amount_due": data.amount_due,
        "amount_paid": data.amount_paid,
        "currency": data.currency,
        "created": invoice.created,
        "period_start": data.period_start,
        "period_end": data.period_end,
        "hosted_invoice_url": data.hosted_invoice_url,
        "invoice_pdf": data.invoice_pdf,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
