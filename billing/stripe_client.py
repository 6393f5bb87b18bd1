"""The one door to Stripe: every call billing makes goes through here.

- The Stripe API version is pinned here (``API_VERSION``) and set on the SDK for dj-stripe too.
- ``STRIPE_API_BASE`` points the real SDK at another server (a local fake in tests, stripe-mock).
- Timeouts stay inside API Gateway's budget: ``STRIPE_TIMEOUT_SECONDS`` (clamped to 10 s) per
  request, ``STRIPE_MAX_NETWORK_RETRIES`` retries (0 by default).
- Every create call carries an idempotency key.
- Stripe errors become ``billing.errors`` (``payment_provider_error``: 502, or 503 when Stripe is
  unreachable, timed out or rate-limited) — never a 500.
- Functions return our own dataclasses; ``raw`` keeps the SDK object for dj-stripe's mirror
  (``Model.sync_from_stripe_data(raw)``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import stripe
from django.conf import settings

from .errors import PaymentProviderError, PaymentProviderNotFound, PaymentProviderUnavailable

logger = logging.getLogger(__name__)

# The Stripe API version every request is made with (ours and dj-stripe's). Change it here only,
# after reading Stripe's upgrade notes for the versions in between.
API_VERSION = "2026-08-26.dahlia"
DEFAULT_API_BASE = "https://api.stripe.com"
MAX_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 3.0

T = TypeVar("T")


# ------------------------------------------------------------------------------------------------
# Configuration
# ------------------------------------------------------------------------------------------------
def timeout_seconds() -> float:
    return max(0.05, min(float(getattr(settings, "STRIPE_TIMEOUT_SECONDS", 8.0)), MAX_TIMEOUT_SECONDS))


def configure() -> None:
    """Apply our settings to the SDK's globals (dj-stripe calls the SDK directly, so it inherits them)."""
    stripe.api_version = API_VERSION
    stripe.api_base = (getattr(settings, "STRIPE_API_BASE", "") or DEFAULT_API_BASE).rstrip("/")
    stripe.max_network_retries = int(getattr(settings, "STRIPE_MAX_NETWORK_RETRIES", 0))
    stripe.enable_telemetry = False
    read = timeout_seconds()
    stripe.default_http_client = stripe.RequestsClient(timeout=(min(CONNECT_TIMEOUT_SECONDS, read), read))


def api_key() -> str:
    if settings.STRIPE_LIVE_MODE:
        return settings.STRIPE_LIVE_SECRET_KEY
    return settings.STRIPE_TEST_SECRET_KEY


def _opts(idempotency_key: str | None = None) -> dict[str, Any]:
    opts: dict[str, Any] = {"api_key": api_key(), "stripe_version": API_VERSION}
    if idempotency_key:
        opts["idempotency_key"] = idempotency_key
    return opts


def _call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one SDK call and translate its failures into our errors."""
    try:
        return fn(*args, **kwargs)
    except stripe.APIConnectionError as exc:  # unreachable or timed out
        logger.warning("stripe unreachable: %s", exc.user_message or exc)
        raise PaymentProviderUnavailable()
    except stripe.RateLimitError as exc:
        logger.warning("stripe rate limit: %s", exc.user_message or exc)
        raise PaymentProviderUnavailable(retry_after=2)
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing" or exc.http_status == 404:
            raise PaymentProviderNotFound(stripe_code=exc.code or "resource_missing")
        logger.error("stripe rejected a request: %s", exc.user_message or exc)
        raise PaymentProviderError(stripe_code=exc.code or "invalid_request")
    except stripe.StripeError as exc:
        logger.error("stripe error (%s): %s", exc.http_status, exc.user_message or exc)
        raise PaymentProviderError(stripe_code=exc.code or "stripe_error")


# ------------------------------------------------------------------------------------------------
# Our view of Stripe objects
# ------------------------------------------------------------------------------------------------
def _get(obj: Any, key: str, default: Any = None) -> Any:
    try:
        value = obj[key]
    except (KeyError, TypeError, AttributeError):
        return default
    return default if value is None else value


def _id(value: Any) -> str:
    if isinstance(value, str):
        return value
    return _get(value, "id", "") or ""


@dataclass(frozen=True)
class StripeCustomer:
    id: str
    email: str
    deleted: bool
    raw: Any = field(repr=False, compare=False)

    @classmethod
    def from_stripe(cls, obj: Any) -> StripeCustomer:
        return cls(id=obj["id"], email=_get(obj, "email", ""), deleted=bool(_get(obj, "deleted", False)), raw=obj)


@dataclass(frozen=True)
class StripePrice:
    id: str
    lookup_key: str
    unit_amount: int | None
    currency: str
    interval: str
    active: bool
    raw: Any = field(repr=False, compare=False)

    @classmethod
    def from_stripe(cls, obj: Any) -> StripePrice:
        return cls(
            id=obj["id"],
            lookup_key=_get(obj, "lookup_key", ""),
            unit_amount=_get(obj, "unit_amount"),
            currency=_get(obj, "currency", ""),
            interval=_get(_get(obj, "recurring", {}), "interval", ""),
            active=bool(_get(obj, "active", True)),
            raw=obj,
        )


@dataclass(frozen=True)
class StripeSubscription:
    id: str
    customer_id: str
    status: str
    price_id: str
    price_lookup_key: str
    cancel_at_period_end: bool
    current_period_end: datetime | None
    raw: Any = field(repr=False, compare=False)

    @classmethod
    def from_stripe(cls, obj: Any) -> StripeSubscription:
        items = _get(_get(obj, "items", {}), "data", []) or []
        first = items[0] if items else {}
        price = _get(first, "price", {})
        # Since API 2025-03-31 the period lives on the items; older versions had it at the top.
        period_end = _get(first, "current_period_end") or _get(obj, "current_period_end")
        return cls(
            id=obj["id"],
            customer_id=_id(_get(obj, "customer")),
            status=_get(obj, "status", ""),
            price_id=_id(price),
            price_lookup_key=_get(price, "lookup_key", "") if not isinstance(price, str) else "",
            cancel_at_period_end=bool(_get(obj, "cancel_at_period_end", False)),
            current_period_end=datetime.fromtimestamp(period_end, tz=UTC) if period_end else None,
            raw=obj,
        )


@dataclass(frozen=True)
class StripeInvoice:
    id: str
    customer_id: str
    status: str
    raw: Any = field(repr=False, compare=False)

    @classmethod
    def from_stripe(cls, obj: Any) -> StripeInvoice:
        return cls(id=obj["id"], customer_id=_id(_get(obj, "customer")), status=_get(obj, "status", ""), raw=obj)


@dataclass(frozen=True)
class RedirectSession:
    """A Checkout or Billing Portal session: all we need is where to send the browser."""

    id: str
    url: str


@dataclass(frozen=True)
class PaymentMethodRef:
    id: str
    type: str


# ------------------------------------------------------------------------------------------------
# Calls
# ------------------------------------------------------------------------------------------------
def create_customer(*, email: str, name: str, metadata: dict[str, str], idempotency_key: str) -> StripeCustomer:
    obj = _call(stripe.Customer.create, email=email, name=name, metadata=metadata, **_opts(idempotency_key))
    return StripeCustomer.from_stripe(obj)


def retrieve_customer(customer_id: str) -> StripeCustomer:
    return StripeCustomer.from_stripe(_call(stripe.Customer.retrieve, customer_id, **_opts()))


def find_price(*, lookup_key: str) -> StripePrice | None:
    """The active price with this lookup key, or None."""
    result = _call(stripe.Price.list, lookup_keys=[lookup_key], active=True, limit=1, **_opts())
    data = _get(result, "data", []) or []
    return StripePrice.from_stripe(data[0]) if data else None


def retrieve_price(price_id: str) -> StripePrice:
    return StripePrice.from_stripe(_call(stripe.Price.retrieve, price_id, **_opts()))


def create_checkout_session(
    *,
    customer_id: str,
    price_id: str,
    success_url: str,
    cancel_url: str,
    client_reference_id: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> RedirectSession:
    obj = _call(
        stripe.checkout.Session.create,
        mode="subscription",
        customer=customer_id,
        line_items=[{"price": price_id, "quantity": 1}],
        success_url=success_url,
        cancel_url=cancel_url,
        client_reference_id=client_reference_id,
        metadata=metadata,
        subscription_data={"metadata": metadata},
        **_opts(idempotency_key),
    )
    return RedirectSession(id=obj["id"], url=obj["url"])


def create_portal_session(*, customer_id: str, return_url: str, idempotency_key: str) -> RedirectSession:
    obj = _call(
        stripe.billing_portal.Session.create, customer=customer_id, return_url=return_url, **_opts(idempotency_key)
    )
    return RedirectSession(id=obj["id"], url=obj["url"])


def retrieve_subscription(subscription_id: str) -> StripeSubscription:
    return StripeSubscription.from_stripe(_call(stripe.Subscription.retrieve, subscription_id, **_opts()))


def list_subscriptions(
    *, customer_id: str | None = None, created_gte: int | None = None
) -> Iterator[StripeSubscription]:
    """Every subscription (any status), newest first, across pages."""
    params: dict[str, Any] = {"status": "all", "limit": 100}
    if customer_id:
        params["customer"] = customer_id
    if created_gte is not None:
        params["created"] = {"gte": created_gte}
    page = _call(stripe.Subscription.list, **params, **_opts())
    iterator = page.auto_paging_iter()
    while True:
        try:
            obj = _call(next, iterator)
        except StopIteration:
            return
        yield StripeSubscription.from_stripe(obj)


def cancel_subscription(subscription_id: str, *, idempotency_key: str) -> StripeSubscription:
    """Cancel now (not at period end)."""
    obj = _call(stripe.Subscription.cancel, subscription_id, **_opts(idempotency_key))
    return StripeSubscription.from_stripe(obj)


def retrieve_invoice(invoice_id: str) -> StripeInvoice:
    return StripeInvoice.from_stripe(_call(stripe.Invoice.retrieve, invoice_id, **_opts()))


def list_payment_methods(customer_id: str) -> list[PaymentMethodRef]:
    page = _call(stripe.Customer.list_payment_methods, customer_id, limit=100, **_opts())
    return [PaymentMethodRef(id=pm["id"], type=_get(pm, "type", "")) for pm in _get(page, "data", []) or []]


def detach_payment_method(payment_method_id: str, *, idempotency_key: str) -> None:
    _call(stripe.PaymentMethod.detach, payment_method_id, **_opts(idempotency_key))


def delete_customer(customer_id: str, *, idempotency_key: str) -> None:
    """Delete the customer at Stripe: its live subscriptions end now and its payment methods can no
    longer be charged; its invoices stay at Stripe (tax records). Already deleted: not an error."""
    try:
        _call(stripe.Customer.delete, customer_id, **_opts(idempotency_key))
    except PaymentProviderNotFound:
        return
