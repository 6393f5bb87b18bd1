"""Scheduled jobs of billing (plain functions: Celery beat and Zappa events both call them)."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


# Stripe keeps sending events about a deleted customer for a while (and retries a webhook for up to
# three days): the mirror of an erasure this recent is redacted again on every run.
ERASURE_SWEEP_DAYS = 7


def sync_stripe() -> int:
    """Drift repair: re-read subscriptions and customers from Stripe and fix our copy; retry pending
    Stripe erasures and re-redact the mirror of recent ones. Returns the number of objects fixed.
    Safe to run at any time, twice in a row."""
    from datetime import timedelta

    from django.utils import timezone

    from .models import StripeErasure
    from .services import mirror_forget_customer, stripe_erasure_run, stripe_sync

    for customer_id in StripeErasure.objects.filter(completed_at__isnull=True).values_list("customer_id", flat=True):
        stripe_erasure_run(customer_id=customer_id)
    result = stripe_sync()
    recent = StripeErasure.objects.filter(completed_at__gte=timezone.now() - timedelta(days=ERASURE_SWEEP_DAYS))
    for customer_id in recent.values_list("customer_id", flat=True):
        mirror_forget_customer(customer_id=customer_id)
    logger.info(
        "stripe sync: %s subscriptions, %s customers, %s fixed, %s errors",
        result.subscriptions,
        result.customers,
        result.fixed,
        result.errors,
    )
    return result.fixed
