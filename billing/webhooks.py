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
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from djstripe.event_handlers import djstripe_receiver
from djstripe.models import Customer, Event, Subscription

from notifications.services import notify

from .models import Plan, ProcessedStripeEvent
from .selectors import subscription_price
from .services import SUBSCRIBER_KEY, subscription_resync

logger = logging.getLogger(__name__)

HANDLED_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "checkout.session.completed",
    "invoice.paid",
    "invoice.payment_failed",
    "customer.deleted",
)


def _obj(event: Event) -> dict[str, Any]:
    return (event.data or {}).get("object") or {}


def _user_for_customer(customer_id: str | None, metadata: dict[str, Any] | None = None) -> Any:
    from django.contrib.auth import get_user_model

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


def _plan_name(subscription: Subscription | None) -> str:
    if subscription is None:
        return "your plan"
    price_id, lookup_key = subscription_price(subscription.stripe_data)
    plan = (Plan.objects.filter(stripe_price_id=price_id).first() if price_id else None) or (
        Plan.objects.filter(stripe_price_lookup_key=lookup_key).first() if lookup_key else None
    )
    return plan.name if plan else "your plan"


def _subscription_id_of_invoice(invoice: dict[str, Any]) -> str | None:
    sub = invoice.get("subscription")
    if not sub:  # API 2025-03-31+: the subscription moved under parent.subscription_details
        sub = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    if isinstance(sub, dict):
        sub = sub.get("id")
    return sub or None


# ------------------------------------------------------------------------------------------------
# Reactions (each runs at most once per event id, inside dj-stripe's transaction)
# ------------------------------------------------------------------------------------------------
def on_subscription_event(event: Event) -> None:
    data = _obj(event)
    subscription, _changed = subscription_resync(subscription_id=data["id"])
    user = _user_for_customer(data.get("customer"), data.get("metadata"))
    if user is None:
        logger.warning("subscription event %s for unknown customer %s", event.id, data.get("customer"))
        return
    status = (subscription.stripe_data if subscription else data).get("status")
    plan = _plan_name(subscription)
    if event.type == "customer.subscription.created":
        if (data.get("metadata") or {}).get("plan"):
            return  # started through our Checkout: checkout.session.completed thanks the user once
        notify(
            user=user,
            category="billing",
            title=f"Your {plan} subscription has started",
            link="/billing",
            data={"event": event.id, "status": status},
        )
    elif event.type == "customer.subscription.deleted":
        notify(
            user=user,
            category="billing",
            title="Your subscription has ended",
            body="You are now on the Free plan. Your data is kept.",
            link="/billing",
            data={"event": event.id, "status": status},
        )
    else:
        previous = (event.data or {}).get("previous_attributes") or {}
        if {"status", "items", "cancel_at_period_end", "plan"} & set(previous):
            notify(
                user=user,
                category="billing",
                title=f"Your subscription was updated ({plan}, {status})",
                link="/billing",
                data={"event": event.id, "status": status},
            )


def on_checkout_completed(event: Event) -> None:
    data = _obj(event)
    if data.get("mode") != "subscription":
        return
    user = _user_for_customer(data.get("customer"), {"user_id": data.get("client_reference_id")})
    customer_id = data.get("customer")
    if user is not None and customer_id:
        # Link a customer created outside our API (or not yet mirrored) to the user who paid.
        Customer.objects.filter(id=customer_id, subscriber__isnull=True).update(subscriber=user)
    subscription = None
    sub_id = data.get("subscription")
    if isinstance(sub_id, dict):
        sub_id = sub_id.get("id")
    if sub_id:
        subscription, _ = subscription_resync(subscription_id=sub_id)
    if user is not None:
        notify(
            user=user,
            category="billing",
            title=f"Thank you! {_plan_name(subscription)} is now active",
            link="/billing",
            data={"event": event.id},
        )


def on_invoice_paid(event: Event) -> None:
    data = _obj(event)
    sub_id = _subscription_id_of_invoice(data)
    if sub_id:
        subscription_resync(subscription_id=sub_id)
    user = _user_for_customer(data.get("customer"))
    if user is not None:
        amount = (data.get("amount_paid") or 0) / 100
        notify(
            user=user,
            category="billing",
            title="Payment received",
            body=f"{amount:.2f} {str(data.get('currency') or '').upper()} — invoice {data.get('number') or data.get('id')}.",
            link=data.get("hosted_invoice_url") or "/billing",
            data={"event": event.id, "invoice": data.get("id")},
        )


def on_invoice_payment_failed(event: Event) -> None:
    data = _obj(event)
    sub_id = _subscription_id_of_invoice(data)
    if sub_id:
        subscription_resync(subscription_id=sub_id)
    user = _user_for_customer(data.get("customer"))
    if user is not None:
        notify(
            user=user,
            category="billing",
            title="Your payment failed",
            body="Please update your payment method to keep your plan.",
            link="/billing",
            data={"event": event.id, "invoice": data.get("id")},
        )


def on_customer_deleted(event: Event) -> None:
    data = _obj(event)
    # dj-stripe's own handler has purged the customer (subscriber unlinked) before we run.
    user = _user_for_customer(None, data.get("metadata"))
    # Stripe cancels a deleted customer's subscriptions; make sure nothing here still grants a plan.
    for row in Subscription.objects.filter(customer__id=data.get("id")).exclude(stripe_data__status="canceled"):
        row.stripe_data = {**row.stripe_data, "status": "canceled"}
        row.save(update_fields=["stripe_data", "djstripe_updated"])
    if user is not None:
        notify(
            user=user,
            category="billing",
            title="Your billing account was closed",
            body="You are on the Free plan.",
            link="/billing",
            data={"event": event.id},
        )


REACTIONS: dict[str, Callable[[Event], None]] = {
    "customer.subscription.created": on_subscription_event,
    "customer.subscription.updated": on_subscription_event,
    "customer.subscription.deleted": on_subscription_event,
    "checkout.session.completed": on_checkout_completed,
    "invoice.paid": on_invoice_paid,
    "invoice.payment_failed": on_invoice_payment_failed,
    "customer.deleted": on_customer_deleted,
}


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
