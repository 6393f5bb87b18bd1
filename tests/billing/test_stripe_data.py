"""billing.stripe_data reads Stripe's JSON of the pinned API version (2026-08-26.dahlia): the
current period on the subscription's items, an invoice's subscription under ``parent``."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import stripe

from billing import stripe_client
from billing.stripe_data import Invoice, Price, Subscription

START, END = 1_767_225_600, 1_769_904_000  # 2026-01-01, 2026-02-01 (UTC)

# Shaped as the pinned API version answers GET /v1/subscriptions/:id (no current_period_* at the top).
SUBSCRIPTION = {
    "id": "sub_1QdahliaExample",
    "object": "subscription",
    "billing_cycle_anchor": START,
    "cancel_at": None,
    "cancel_at_period_end": True,
    "canceled_at": None,
    "collection_method": "charge_automatically",
    "created": START - 86400,
    "customer": "cus_Rdahlia",
    "items": {
        "object": "list",
        "data": [
            {
                "id": "si_Rdahlia",
                "object": "subscription_item",
                "created": START - 86400,
                "current_period_end": END,
                "current_period_start": START,
                "metadata": {},
                "price": {
                    "id": "price_1Qpro",
                    "object": "price",
                    "active": True,
                    "billing_scheme": "per_unit",
                    "currency": "eur",
                    "lookup_key": "stackpro_pro_monthly",
                    "nickname": None,
                    "product": "prod_Rpro",
                    "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
                    "type": "recurring",
                    "unit_amount": 1500,
                    "unit_amount_decimal": "1500",
                },
                "quantity": 2,
                "subscription": "sub_1QdahliaExample",
            }
        ],
        "has_more": False,
        "url": "/v1/subscription_items?subscription=sub_1QdahliaExample",
    },
    "livemode": False,
    "metadata": {"plan": "pro", "user_id": "42"},
    "start_date": START - 86400,
    "status": "active",
    "trial_end": None,
}

INVOICE = {
    "id": "in_1Qdahlia",
    "object": "invoice",
    "amount_due": 3000,
    "amount_paid": 3000,
    "currency": "eur",
    "customer": "cus_Rdahlia",
    "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1/test_x",
    "invoice_pdf": "https://pay.stripe.com/invoice/acct_1/test_x/pdf",
    "number": "ABC-0001",
    "parent": {
        "quote_details": None,
        "subscription_details": {"metadata": {}, "subscription": "sub_1QdahliaExample"},
        "type": "subscription_details",
    },
    "period_end": END,
    "period_start": START,
    "status": "paid",
}


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def test_a_subscription_of_the_pinned_version_has_its_period_on_the_item() -> None:
    sub = Subscription.from_stripe(SUBSCRIPTION)
    assert (sub.current_period_start, sub.current_period_end) == (_utc(START), _utc(END))
    assert sub.items[0].current_period_end == _utc(END) and sub.items[0].quantity == 2
    assert (sub.id, sub.customer_id, sub.status, sub.cancel_at_period_end) == (
        "sub_1QdahliaExample", "cus_Rdahlia", "active", True,
    )  # fmt: skip
    assert (sub.price_id, sub.price_lookup_key, sub.metadata["plan"]) == ("price_1Qpro", "stackpro_pro_monthly", "pro")
    assert sub.created == _utc(START - 86400) and sub.trial_end is None


def test_the_sdk_object_reads_the_same_as_the_stored_json() -> None:
    """stripe_client hands SDK objects (not dicts) to the same reader."""
    obj = stripe.Subscription.construct_from(SUBSCRIPTION, "sk_test_x", api_mode="V1")
    assert Subscription.from_stripe(obj) == Subscription.from_stripe(SUBSCRIPTION)
    assert stripe_client.API_VERSION == "2026-08-26.dahlia"  # bump the payloads above with the version


def test_a_mirror_row_of_an_older_version_keeps_its_period() -> None:
    legacy = {**SUBSCRIPTION, "current_period_start": START, "current_period_end": END}
    legacy["items"] = {"data": [{"id": "si_old", "plan": {"id": "plan_old", "interval": "year", "amount": 100}}]}
    sub = Subscription.from_stripe(legacy)
    assert sub.current_period_end == _utc(END) and sub.price_id == "plan_old" and sub.price.interval == "year"


def test_an_invoice_finds_its_subscription_under_parent() -> None:
    invoice = Invoice.from_stripe(INVOICE)
    assert invoice.subscription_id == "sub_1QdahliaExample"
    assert (invoice.period_start, invoice.period_end) == (_utc(START), _utc(END))
    assert (invoice.number, invoice.status, invoice.amount_paid, invoice.currency) == ("ABC-0001", "paid", 3000, "eur")
    assert Invoice.from_stripe({**INVOICE, "parent": None, "subscription": "sub_old"}).subscription_id == "sub_old"


def test_a_price_and_its_amounts() -> None:
    price = Price.from_stripe(SUBSCRIPTION["items"]["data"][0]["price"])
    assert (price.interval, price.interval_count, price.amount, price.product_id) == (
        "month",
        1,
        Decimal(1500),
        "prod_Rpro",
    )
    decimal_only = Price.from_stripe({"id": "price_d", "unit_amount": None, "unit_amount_decimal": "12.5"})
    assert decimal_only.amount == Decimal("12.5")
    assert Price.from_stripe("price_unexpanded").id == "price_unexpanded"
