"""Scheduled jobs of billing (plain functions: Celery beat and Zappa events both call them)."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def sync_stripe() -> int:
    """Drift repair: re-read subscriptions and customers from Stripe and fix our copy; retry pending
    Stripe erasures. Returns the number of objects fixed. Safe to run at any time, twice in a row."""
    from .models import StripeErasure
    from .services import stripe_erasure_run, stripe_sync

    for customer_id in StripeErasure.objects.filter(completed_at__isnull=True).values_list("customer_id", flat=True):
        stripe_erasure_run(customer_id=customer_id)
    result = stripe_sync()
    logger.info(
        "stripe sync: %s subscriptions, %s customers, %s fixed, %s errors",
        result.subscriptions,
        result.customers,
        result.fixed,
        result.errors,
    )
    return result.fixed
