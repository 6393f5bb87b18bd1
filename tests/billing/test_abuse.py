"""Billing abuse through the real routes: an unverified account cannot start a checkout (Stripe mails
receipts to its unverified address), and a subscription of the other Stripe mode grants nothing."""

from __future__ import annotations

import pytest

from tests.conftest import client_for
from tests.factories import UserFactory
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db


def test_unverified_user_cannot_start_a_checkout(fake_stripe, prices, settings):
    settings.FRONTEND_ORIGINS = [settings.FRONTEND_URL]
    client = client_for(UserFactory(email_verified=False))
    response = client.post("/api/v1/billing/checkout/", {"plan": "pro"})
    assert_api_error(response, 403, "email_not_verified")
    assert not fake_stripe.objects.get("checkout/sessions") and not fake_stripe.objects.get("customers")


def test_test_mode_subscription_grants_nothing_in_live_mode(user, subscribe, settings):
    subscribe(user, "pro")  # bought with a test card against the test-mode keys
    client = client_for(user)
    assert client.get("/api/v1/billing/subscription/").json()["plan"]["code"] == "pro"
    settings.STRIPE_LIVE_MODE = True
    summary = client.get("/api/v1/billing/subscription/").json()
    assert summary["plan"]["code"] == "free"
    assert summary["entitlements"]["max_projects"] == 3
