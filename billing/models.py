"""Models of billing: the plan catalogue, processed Stripe events, and pending Stripe erasures.

Stripe's own objects (customers, subscriptions, invoices, prices) are mirrored by dj-stripe in its
tables; billing only adds what Stripe does not know: what each plan allows.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from .entitlements import Entitlements


class ApiRateTier(models.TextChoices):
    STANDARD = "standard", "Standard"
    PRO = "pro", "Pro"
    TEAM = "team", "Team"


class Plan(models.Model):
    """A plan of the catalogue. Paid plans name their Stripe Price by lookup key (and cache its id)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    stripe_price_lookup_key = models.CharField(
        max_length=200, blank=True, db_index=True, help_text="Lookup key of the Stripe Price; empty for Free."
    )
    stripe_price_id = models.CharField(
        max_length=255, blank=True, db_index=True, help_text="Filled from the lookup key on first use."
    )
    max_projects = models.PositiveIntegerField()
    max_members_per_project = models.PositiveIntegerField()
    max_file_size_bytes = models.PositiveBigIntegerField()
    max_storage_bytes = models.PositiveBigIntegerField()
    ai_tokens_per_month = models.PositiveBigIntegerField()
    api_rate_tier = models.CharField(max_length=20, choices=ApiRateTier.choices, default=ApiRateTier.STANDARD)
    sort_order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True, help_text="Inactive plans cannot be bought; subscribers keep them.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.stripe_price_lookup_key:
            clash = Plan.objects.filter(stripe_price_lookup_key=self.stripe_price_lookup_key).exclude(pk=self.pk)
            if clash.exists():
                raise ValidationError({"stripe_price_lookup_key": "Another plan already sells this Stripe price."})
        if self.code == "free" and self.is_paid:
            raise ValidationError({"stripe_price_lookup_key": "The Free plan has no Stripe price."})

    @property
    def is_paid(self) -> bool:
        return bool(self.stripe_price_lookup_key or self.stripe_price_id)

    def entitlements(self) -> Entitlements:
        return Entitlements(
            plan_code=self.code,
            plan_name=self.name,
            max_projects=self.max_projects,
            max_members_per_project=self.max_members_per_project,
            max_file_size_bytes=self.max_file_size_bytes,
            max_storage_bytes=self.max_storage_bytes,
            ai_tokens_per_month=self.ai_tokens_per_month,
            api_rate_tier=self.api_rate_tier,
        )


class ProcessedStripeEvent(models.Model):
    """One row per Stripe event id whose side effects ran: inserted first, in the same transaction
    as the side effects, so a duplicate delivery (replayed, concurrent, or days later) does nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=250)
    processed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-processed_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class StripeErasure(models.Model):
    """A Stripe customer whose subscriptions must be cancelled and payment methods removed because
    the account was erased. Written inside the erasure transaction; Stripe is called after commit and
    the scheduled sync retries until ``completed_at`` is set (an outbox: no lost cancellation)."""

    customer_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.customer_id
