"""Serializers of the billing API (input validation and output shapes)."""

from __future__ import annotations

from typing import Any

from djstripe.models import Invoice
from rest_framework import serializers

from core.serializers import StrictSerializer

from . import stripe_data
from .models import Plan
from .services import invoice_as_dict


class PriceSerializer(StrictSerializer):
    id = serializers.CharField()
    amount = serializers.IntegerField(allow_null=True, help_text="In the currency's smallest unit (cents).")
    currency = serializers.CharField()
    interval = serializers.CharField(allow_blank=True)


class LimitsSerializer(StrictSerializer):
    max_projects = serializers.IntegerField()
    max_members_per_project = serializers.IntegerField()
    max_file_size_bytes = serializers.IntegerField()
    max_storage_bytes = serializers.IntegerField()
    ai_tokens_per_month = serializers.IntegerField()
    api_rate_tier = serializers.CharField()


class PlanSerializer(StrictSerializer):
    code = serializers.CharField()
    name = serializers.CharField()
    is_paid = serializers.BooleanField()
    limits = LimitsSerializer()
    price = PriceSerializer(allow_null=True)

    @staticmethod
    def build(plan: Plan, price: stripe_data.Price | None) -> dict[str, Any]:
        return {
            "code": plan.code,
            "name": plan.name,
            "is_paid": plan.is_paid,
            "limits": {
                "max_projects": plan.max_projects,
                "max_members_per_project": plan.max_members_per_project,
                "max_file_size_bytes": plan.max_file_size_bytes,
                "max_storage_bytes": plan.max_storage_bytes,
                "ai_tokens_per_month": plan.ai_tokens_per_month,
                "api_rate_tier": plan.api_rate_tier,
            },
            "price": None
            if price is None
            else {"id": price.id, "amount": price.unit_amount, "currency": price.currency, "interval": price.interval},
        }


class LimitUsageSerializer(StrictSerializer):
    limit = serializers.IntegerField()
    usage = serializers.IntegerField(allow_null=True)
    exceeded = serializers.BooleanField()


class PlanRefSerializer(StrictSerializer):
    code = serializers.CharField()
    name = serializers.CharField()


class EntitlementsSerializer(LimitsSerializer):
    plan_code = serializers.CharField()
    plan_name = serializers.CharField()


class LimitsReportSerializer(StrictSerializer):
    """Usage against each limit (``usage`` is null where it is not counted: the per-file size)."""

    projects = LimitUsageSerializer()
    members_per_project = LimitUsageSerializer()
    storage_bytes = LimitUsageSerializer()
    ai_tokens_month = LimitUsageSerializer()
    max_file_size_bytes = LimitUsageSerializer()


class SubscriptionSerializer(StrictSerializer):
    plan = PlanRefSerializer()
    status = serializers.CharField(help_text="Stripe's status (active, trialing, past_due, canceled, …) or none.")
    subscription_id = serializers.CharField(allow_null=True)
    current_period_end = serializers.DateTimeField(allow_null=True)
    cancel_at_period_end = serializers.BooleanField()
    trial_end = serializers.DateTimeField(allow_null=True)
    grace_period_ends_at = serializers.DateTimeField(allow_null=True)
    entitlements = EntitlementsSerializer()
    limits = LimitsReportSerializer()
    exceeded_limits = serializers.ListField(child=serializers.CharField(), help_text="Keys of ``limits`` exceeded.")


class CheckoutInputSerializer(StrictSerializer):
    plan = serializers.SlugField(max_length=40)
    success_url = serializers.URLField(required=False, max_length=2000)
    cancel_url = serializers.URLField(required=False, max_length=2000)


class PortalInputSerializer(StrictSerializer):
    return_url = serializers.URLField(required=False, max_length=2000)


class RedirectSerializer(StrictSerializer):
    url = serializers.URLField()


class InvoiceSerializer(StrictSerializer):
    id = serializers.CharField()
    number = serializers.CharField(allow_blank=True)
    status = serializers.CharField(allow_blank=True)
    amount_due = serializers.IntegerField(allow_null=True)
    amount_paid = serializers.IntegerField(allow_null=True)
    currency = serializers.CharField(allow_blank=True)
    created = serializers.DateTimeField(allow_null=True)
    period_start = serializers.DateTimeField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)
    hosted_invoice_url = serializers.CharField(allow_blank=True)
    invoice_pdf = serializers.CharField(allow_blank=True)

    def to_representation(self, instance: Invoice) -> dict[str, Any]:
        return super().to_representation(invoice_as_dict(instance))
