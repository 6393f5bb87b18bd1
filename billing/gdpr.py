"""billing's part of a user's data export and erasure (registered in ``BillingConfig.ready``, like
every app's ``gdpr.py``). Stripe itself is called after commit (``services.stripe_erasure_run``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from djstripe.models import Customer, IdempotencyKey, PaymentMethod

from .models import StripeErasure
from .selectors import invoice_list_for_user, subscription_summary
from .services import _jsonable, invoice_as_dict, mirror_forget_customer, stripe_erasure_run


def export_user(user: Any) -> dict[str, Any]:
    """The Stripe customer as we mirror it (contact and address), the subscription, the invoices
    and the payment methods (brand, last digits, billing details)."""
    customers = list(Customer.objects.filter(subscriber=user))
    data = {
        "customer": [
            {
                "id": c.id,
                "email": c.email,
                **{k: c.stripe_data.get(k) for k in ("name", "phone", "address", "shipping", "created")},
            }
            for c in customers
        ],
        "subscription": subscription_summary(user=user),
        "invoices": [invoice_as_dict(inv) for inv in invoice_list_for_user(user=user)],
        "payment_methods": [
            {
                "id": pm.id,
                "type": pm.stripe_data.get("type"),
                "card": {
                    k: (pm.stripe_data.get("card") or {}).get(k) for k in ("brand", "last4", "exp_month", "exp_year")
                },
                "billing_details": pm.stripe_data.get("billing_details"),
            }
            for pm in PaymentMethod.objects.filter(customer__in=customers)
        ],
    }
    return _jsonable(data)


def erase_user(user: Any) -> None:
    """Inside the erasure transaction: record each Stripe customer in ``StripeErasure`` (an outbox
    committed with the erasure), redact our mirror of it, forget dj-stripe's idempotency key that
    names the user. After commit the customer is deleted at Stripe; a failure there is retried by
    ``billing.jobs.sync_stripe`` (the erasure itself never waits for Stripe)."""
    customer_ids = list(Customer.objects.filter(subscriber=user).values_list("id", flat=True))
    for customer_id in customer_ids:
        StripeErasure.objects.get_or_create(customer_id=customer_id)
        mirror_forget_customer(customer_id=customer_id)
    IdempotencyKey.objects.filter(action__contains=str(user.pk)).delete()

    def run() -> None:
        for customer_id in customer_ids:
            stripe_erasure_run(customer_id=customer_id)

    if customer_ids:
        transaction.on_commit(run, robust=True)
