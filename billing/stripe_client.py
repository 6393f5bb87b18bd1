"""The one door to Stripe: every call billing makes goes through here.

- The Stripe API version is pinned here (``API_VERSION``) and set on the SDK for dj-stripe too.
- ``STRIPE_API_BASE`` points the real SDK at another server (a local fake in tests, stripe-mock).
- Timeouts stay inside API Gateway's budget: ``STRIPE_TIMEOUT_SECONDS`` (clamped to 10 s) per
  request, ``STRIPE_MAX_NETWORK_RETRIES`` retries (0 by default).
- Every create call carries an idempotency key.
- Stripe errors become ``billing.errors`` (``payment_provider_error``: 502, or 503 when Stripe is
  unreachable, timed out or rate-limited) — never a 500.
- Functions return our own dataclasses (``billing.stripe_data``); ``raw`` keeps the SDK object for
  dj-stripe's mirror (``Model.sync_from_stripe_data(raw)``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import stripe
from django.conf import settings

from .errors import PaymentProviderError, PaymentProviderNotFound, PaymentProviderUnavailable
from .stripe_data import CheckoutSession, Customer, PortalSession, Price, Subscription, get

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
# Calls
# ------------------------------------------------------------------------------------------------
def create_customer(*, email: str, name: str, metadata: dict[str, str], idempotency_key: str) -> Customer:
    obj = _call(stripe.Customer.create, email=email, name=name, metadata=metadata, **_opts(idempotency_key))
    return Customer.from_stripe(obj)


def retrieve_customer(customer_id: str) -> Customer:
    return Customer.from_stripe(_call(stripe.Customer.retrieve, customer_id, **_opts()))


def find_price(*, lookup_key: str) -> Price | None:
    """The active price with this lookup key, or None."""
    result = _call(stripe.Price.list, lookup_keys=[lookup_key], active=True, limit=1, **_opts())
    data = get(result, "data", [])
    return Price.from_stripe(data[0]) if data else None


def create_checkout_session(
    *,
    customer_id: str,
    price_id: str,
    success_url: str,
    cancel_url: str,
    client_reference_id: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> CheckoutSession:
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
    return CheckoutSession.from_stripe(obj)


def create_portal_session(*, customer_id: str, return_url: str, idempotency_key: str) -> PortalSession:
    obj = _call(
        stripe.billing_portal.Session.create, customer=customer_id, return_url=return_url, **_opts(idempotency_key)
    )
    return PortalSession.from_stripe(obj)


def retrieve_subscription(subscription_id: str) -> Subscription:
    return Subscription.from_stripe(_call(stripe.Subscription.retrieve, subscription_id, **_opts()))


def list_subscriptions(*, customer_id: str | None = None, created_gte: int | None = None) -> Iterator[Subscription]:
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
        yield Subscription.from_stripe(obj)


def delete_customer(customer_id: str, *, idempotency_key: str) -> None:
    """Delete the customer at Stripe: its live subscriptions end now and its payment methods can no
    longer be charged; its invoices stay at Stripe (tax records). Already deleted: not an error."""
    try:
        _call(stripe.Customer.delete, customer_id, **_opts(idempotency_key))
    except PaymentProviderNotFound:
        return
