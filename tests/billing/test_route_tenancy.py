"""Billing's "other tenant" cases (route matrix): subscription, checkout and portal take no id — the
customer is always the caller's, whatever the body names; another user's subscription is never shown,
reused or changed."""

from __future__ import annotations

import pytest
from djstripe.models import Customer, Subscription

from tests.conftest import client_for
from tests.security.route_matrix import covers_route

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _origins(settings):
    settings.FRONTEND_URL = "http://localhost:3000"
    settings.FRONTEND_ORIGINS = ["http://localhost:3000"]


@covers_route("billing:subscription", "other_tenant", methods=("get",))
def test_subscription_shows_only_the_callers(auth_client, other_user, subscribe):
    theirs = subscribe(other_user, "team")
    body = auth_client.get("/api/v1/billing/subscription/", {"subscription_id": theirs["id"]}).json()
    assert body["plan"]["code"] == "free"
    assert body["subscription_id"] != theirs["id"] and theirs["id"] not in str(body)
    assert client_for(other_user).get("/api/v1/billing/subscription/").json()["subscription_id"] == theirs["id"]


@covers_route("billing:checkout", "other_tenant", methods=("post",))
def test_checkout_uses_the_callers_own_customer(auth_client, user, other_user, fake_stripe, subscribe):
    theirs = subscribe(other_user, "pro")
    response = auth_client.post(
        "/api/v1/billing/checkout/", {"plan": "team", "customer": theirs["customer"]}, format="json"
    )
    assert response.status_code == 200, response.json()
    (session,) = fake_stripe.objects["checkout/sessions"].values()
    mine = Customer.objects.get(subscriber=user)
    assert session["customer"] == mine.id != theirs["customer"]
    assert session["client_reference_id"] == str(user.pk)
    assert Subscription.objects.get(id=theirs["id"]).status == "active"


@covers_route("billing:portal", "other_tenant", methods=("post",))
def test_portal_opens_the_callers_own_customer(auth_client, user, other_user, fake_stripe, subscribe):
    theirs = subscribe(other_user, "pro")
    response = auth_client.post("/api/v1/billing/portal/", {"customer": theirs["customer"]}, format="json")
    assert response.status_code == 200, response.json()
    (session,) = fake_stripe.objects["billing_portal/sessions"].values()
    assert session["customer"] == Customer.objects.get(subscriber=user).id != theirs["customer"]
