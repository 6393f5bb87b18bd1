"""Billing's domain errors: Stripe failures become ``payment_provider_error`` (502, or 503 when unreachable)."""

from __future__ import annotations

from core.errors import Conflict, InvalidInput, ServiceUnavailable, UpstreamError


class PaymentProviderError(UpstreamError):
    """Stripe answered with an error we cannot fix by retrying the same request (502)."""

    status_code = 502
    code = "payment_provider_error"
    message = "The payment provider could not process the request."


class PaymentProviderNotFound(PaymentProviderError):
    """Stripe says the object does not exist (``resource_missing``)."""

    message = "The payment provider does not know this object."


class PaymentProviderUnavailable(ServiceUnavailable):
    """Stripe could not be reached, timed out or rate-limited us (503 with Retry-After)."""

    code = "payment_provider_error"
    message = "The payment provider is temporarily unavailable. Please retry shortly."


class SubscriptionExists(Conflict):
    code = "subscription_exists"
    message = "You already have an active subscription: change plans in the billing portal."


class InvalidRedirectUrl(InvalidInput):
    code = "invalid_redirect_url"
    message = "Redirect URLs must be on an allowed frontend origin."
