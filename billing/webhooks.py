"""Our reactions to Stripe webhooks, hooked into dj-stripe's pipeline.

dj-stripe's view (``/stripe/webhook/<uuid>/``) verifies the signature (400 and nothing processed
when it is missing, wrong or older than the endpoint's tolerance, 300 s), then, inside one
transaction, stores the Event, runs its own mirror handlers and sends ``WEBHOOK_SIGNALS[type]``;
our receivers below run there. Exactly once per event id:

- the first thing a reaction does is insert ``ProcessedStripeEvent(event_id)`` (unique). A replay
  finds the row and does nothing; a concurrent duplicate blocks on the unique index until the first
  commits, then fails the insert and does nothing;
- everything the reaction does (mirror writes, notifications) is in the same transaction, so a
  failure rolls it all back together with the event row, dj-stripe answers 500, and Stripe's retry
  starts from a clean slate. Emails leave only after commit (``notify`` queues them on_commit).

Out-of-order delivery: a reaction never trusts the event's snapshot; it re-reads the subscription
from Stripe and stores Stripe's current state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from djstripe.event_handlers import djstripe_receiver
from djstripe.models import Customer, Event

from notifications.services import notify

from . import stripe_data
from .models import Plan, ProcessedStripeEvent
from .services import (
    SUBSCRIBER_KEY,
    customer_link_subscriber,
    subscription_resync,
    subscriptions_cancel_for_customer,
)

logger = logging.getLogger(__name__)


def _obj(event: Event) -> dict[str, Any]:
    return (event.data or {}).get("object") or {}


def _user_for_customer(customer_id: str | None, metadata: dict[str, Any] | None = None) -> Any:
    if customer_id:
        customer = Customer.objects.filter(id=customer_id).select_related("subscriber").first()
        if customer is not None and customer.subscriber is not None:
            return customer.subscriber
    user_id = (metadata or {}).get(SUBSCRIBER_KEY) or (metadata or {}).get("user_id")
    if user_id:
        try:
            return get_user_model().objects.filter(pk=user_id).first()
        except (ValueError, ValidationError):  # a malformed id is simply nobody
            return None
    return None


def _plan_name(subscription: stripe_data.Subscription | None) -> str:
    if subscription is None:
        return "your plan"
    price_id, lookup_key = subscription.price_id, subscription.price_lookup_key
    plan = (Plan.objects.filter(stripe_price_id=price_id).first() if price_id else None) or (
        Plan.objects.filter(stripe_price_lookup_key=lookup_key).first() if lookup_key else None
    )
    return plan.name if plan else "your plan"


def _resynced(subscription_id: str) -> stripe_data.Subscription | None:
    """Stripe's current state of the subscription, stored in our mirror (None when there is none)."""
    if not subscription_id:
        return None
    row, _changed = subscription_resync(subscription_id=subscription_id)
    return stripe_data.Subscription.from_stripe(row.stripe_data) if row is not None else None


def _tell(user: Any, event: Event, title: str, body: str = "", link: str = "/billing", **data: Any) -> None:
    notify(user=user, category="billing", title=title, body=body, link=link, data={"event": event.id, **data})


# ------------------------------------------------------------------------------------------------
# Reactions (each runs at most once per event id, inside dj-stripe's transaction)
# ------------------------------------------------------------------------------------------------
def _subscription_event(event: Event) -> tuple[Any, stripe_data.Subscription, stripe_data.Subscription | None]:
    """Resync the event's subscription: (user or None, the event's snapshot, Stripe's current state)."""
    sent = stripe_data.Subscription.from_stripe(_obj(event))
    current = _resynced(sent.id)
    user = _user_for_customer(sent.customer_id, sent.metadata)
    if user is None:
        logger.warning("subscription event %s for unknown customer %s", event.id, sent.customer_id)
    return user, sent, current


def on_subscription_created(event: Event) -> None:
    user, sent, sub = _subscription_event(event)
    if user is None or sent.metadata.get("plan"):
        return  # with a plan in its metadata it started through our Checkout: checkout.session.completed thanks
    status = (sub or sent).status
    _tell(user, event, f"Your {_plan_name(sub)} subscription has started", status=status)


def on_subscription_updated(event: Event) -> None:
    user, sent, sub = _subscription_event(event)
    previous = (event.data or {}).get("previous_attributes") or {}
    if user is not None and {"status", "items", "cancel_at_period_end", "plan"} & set(previous):
        status = (sub or sent).status
        _tell(user, event, f"Your subscription was updated ({_plan_name(sub)}, {status})", status=status)


def on_subscription_deleted(event: Event) -> None:
    user, sent, sub = _subscription_event(event)
    if user is not None:
        body = "You are now on the Free plan. Your data is kept."
        _tell(user, event, "Your subscription has ended", body, status=(sub or sent).status)


def on_checkout_completed(event: Event) -> None:
    session = stripe_data.CheckoutSession.from_stripe(_obj(event))
    if session.mode != "subscription":
        return
    user = _user_for_customer(session.customer_id, {"user_id": session.client_reference_id})
    if user is not None and session.customer_id:
        customer_link_subscriber(customer_id=session.customer_id, user=user)
    subscription = _resynced(session.subscription_id)
    if user is not None:
        _tell(user, event, f"Thank you! {_plan_name(subscription)} is now active")


def _invoice_event(event: Event) -> tuple[Any, stripe_data.Invoice]:
    """Resync the invoice's subscription; (user or None, the invoice)."""
    invoice = stripe_data.Invoice.from_stripe(_obj(event))
    _resynced(invoice.subscription_id)
    return _user_for_customer(invoice.customer_id), invoice


def on_invoice_paid(event: Event) -> None:
    user, invoice = _invoice_event(event)
    if user is not None:
        units = stripe_data.minor_units(invoice.currency)  # Stripe's amounts are in the smallest unit
        amount = f"{Decimal(invoice.amount_paid or 0) / units:.{0 if units == 1 else 2}f}"
        body = f"{amount} {invoice.currency.upper()} — invoice {invoice.number or invoice.id}."
        _tell(user, event, "Payment received", body, link=invoice.hosted_invoice_url or "/billing", invoice=invoice.id)


def on_invoice_payment_failed(event: Event) -> None:
    user, invoice = _invoice_event(event)
    if user is not None:
        body = "Please update your payment method to keep your plan."
        _tell(user, event, "Your payment failed", body, invoice=invoice.id)


def on_customer_deleted(event: Event) -> None:
    customer = stripe_data.Customer.from_stripe(_obj(event))
    # dj-stripe's own handler has purged the customer (subscriber unlinked) before we run.
    user = _user_for_customer(None, customer.metadata)
    # Stripe cancels a deleted customer's subscriptions; make sure nothing here still grants a plan.
    subscriptions_cancel_for_customer(customer_id=customer.id)
    if user is not None:
        _tell(user, event, "Your billing account was closed", "You are on the Free plan.")


# The one table of what we react to: the webhook endpoint subscribes to exactly these types
# (``manage.py billing_webhook_setup``) and the receiver below is connected to them.
REACTIONS: dict[str, Callable[[Event], None]] = {
    "customer.subscription.created": on_subscription_created,
    "customer.subscription.updated": on_subscription_updated,
    "customer.subscription.deleted": on_subscription_deleted,
    "checkout.session.completed": on_checkout_completed,
    "invoice.paid": on_invoice_paid,
    "invoice.payment_failed": on_invoice_payment_failed,
    "customer.deleted": on_customer_deleted,
}
HANDLED_EVENTS = tuple(REACTIONS)


def claim_event(event_id: str, event_type: str) -> bool:
    """Insert the event's row; False when another delivery already did (or is doing) it."""
    try:
        with transaction.atomic():
            ProcessedStripeEvent.objects.create(event_id=event_id, type=event_type)
    except IntegrityError:
        return False
    return True


@djstripe_receiver(list(HANDLED_EVENTS))
def handle_stripe_event(sender: Any, event: Event, **kwargs: Any) -> None:
    reaction = REACTIONS.get(event.type)
    if reaction is None:
        return
    if not claim_event(event.id, event.type):
        logger.info("stripe event %s (%s) already handled", event.id, event.type)
        return
    reaction(event)
