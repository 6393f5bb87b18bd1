"""Checkout and portal over HTTP against the fake Stripe; one customer per user; Stripe errors."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from djstripe.models import Customer

from billing import services
from tests.billing.conftest import needs_mysql
from tests.conftest import client_for
from tests.nothing_changed import nothing_changed
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db

FRONT = "http://localhost:3000"


@pytest.fixture(autouse=True)
def _origins(settings):
    settings.FRONTEND_URL = FRONT
    settings.FRONTEND_ORIGINS = [FRONT, "https://app.stackpro.test"]


def test_checkout_returns_a_stripe_url(auth_client, user, fake_stripe, prices):
    response = auth_client.post(
        "/api/v1/billing/checkout/",
        {"plan": "pro", "success_url": "https://app.stackpro.test/ok", "cancel_url": f"{FRONT}/billing"},
    )
    assert response.status_code == 200, response.json()
    url = response.json()["url"]
    assert url.startswith("https://checkout.stripe.test/")
    (session,) = fake_stripe.objects["checkout/sessions"].values()
    assert url.endswith(session["id"])
    assert session["mode"] == "subscription"
    assert session["line_items_requested"] == [{"price": prices["pro"]["id"], "quantity": "1"}]
    assert session["success_url"] == "https://app.stackpro.test/ok"
    assert session["client_reference_id"] == str(user.pk)
    customer = Customer.objects.get(subscriber=user)
    assert session["customer"] == customer.id
    # every create carried an idempotency key
    posts = fake_stripe.calls("POST")
    assert posts and all(r["headers"].get("Idempotency-Key") for r in posts)


def test_checkout_default_urls_are_on_the_frontend(auth_client, fake_stripe, prices):
    assert auth_client.post("/api/v1/billing/checkout/", {"plan": "team"}).status_code == 200
    (session,) = fake_stripe.objects["checkout/sessions"].values()
    assert session["success_url"].startswith(f"{FRONT}/billing/success?session_id=")
    assert session["cancel_url"] == f"{FRONT}/billing"


def test_customer_is_created_once_and_reused(auth_client, user, fake_stripe, prices):
    for _ in range(2):
        assert auth_client.post("/api/v1/billing/checkout/", {"plan": "pro"}).status_code == 200
    assert auth_client.post("/api/v1/billing/portal/", {}).status_code == 200
    assert len(fake_stripe.calls("POST", "/v1/customers")) == 1
    assert Customer.objects.filter(subscriber=user).count() == 1
    assert len(fake_stripe.objects["checkout/sessions"]) == 2


@pytest.mark.mysql
@needs_mysql
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_checkouts_share_one_customer(user, fake_stripe, prices):
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        try:
            barrier.wait()
            services.customer_get_or_create(user=user)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(fake_stripe.objects["customers"]) == 1  # one idempotency key → one Stripe customer
    assert Customer.objects.filter(subscriber=user).count() == 1


@pytest.mark.parametrize(
    "field,url",
    [
        ("success_url", "https://evil.example.com/ok"),
        ("cancel_url", "http://localhost:3001/billing"),
        ("success_url", "javascript:alert(1)"),
        ("success_url", "https://app.stackpro.test@evil.example.com/"),
        ("cancel_url", "https://app.stackpro.test.evil.example.com/"),
    ],
)
def test_redirects_off_the_frontend_origins_are_refused(auth_client, fake_stripe, prices, field, url):
    response = auth_client.post("/api/v1/billing/checkout/", {"plan": "pro", field: url})
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid_redirect_url", "validation_error")
    assert field in response.json()["fields"]
    assert fake_stripe.calls("POST") == []


@pytest.mark.parametrize("plan", ["free", "platinum"])
def test_checkout_needs_a_paid_plan(auth_client, fake_stripe, plan):
    body = assert_api_error(auth_client.post("/api/v1/billing/checkout/", {"plan": plan}), 400, "invalid_plan")
    assert "plan" in body["fields"]


def test_checkout_with_an_active_subscription_is_a_conflict(auth_client, user, subscribe):
    subscribe(user, "pro")
    assert_api_error(auth_client.post("/api/v1/billing/checkout/", {"plan": "team"}), 409, "subscription_exists")


def test_checkout_needs_authentication(api_client):
    with nothing_changed():
        response = api_client.post("/api/v1/billing/checkout/", {"plan": "pro"})
    assert_api_error(response, 401, "not_authenticated")


def test_checkout_for_a_price_missing_at_stripe_is_a_provider_error(auth_client, fake_stripe):
    assert_api_error(auth_client.post("/api/v1/billing/checkout/", {"plan": "pro"}), 502, "payment_provider_error")


def test_client_idempotency_key_is_forwarded(auth_client, fake_stripe, prices):
    for _ in range(2):
        response = auth_client.post("/api/v1/billing/checkout/", {"plan": "pro"}, HTTP_IDEMPOTENCY_KEY="click-1")
        assert response.status_code == 200
    assert len(fake_stripe.objects["checkout/sessions"]) == 1  # the retry replayed the first session


def test_portal_returns_a_stripe_url(auth_client, user, fake_stripe):
    response = auth_client.post("/api/v1/billing/portal/", {"return_url": "https://app.stackpro.test/settings"})
    assert response.status_code == 200
    (session,) = fake_stripe.objects["billing_portal/sessions"].values()
    assert response.json()["url"] == session["url"]
    assert session["customer"] == Customer.objects.get(subscriber=user).id
    assert session["return_url"] == "https://app.stackpro.test/settings"


def test_portal_refuses_foreign_return_url(auth_client, fake_stripe):
    response = auth_client.post("/api/v1/billing/portal/", {"return_url": "https://evil.example.com/"})
    assert_api_error(response, 400, "invalid_redirect_url")


# ------------------------------------------------------------------------------------------------
# Stripe failures are payment_provider_error, never 500
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "status,etype,expected",
    [
        (500, "api_error", 502),
        (402, "card_error", 502),
        (401, "invalid_request_error", 502),
        (429, "rate_limit_error", 503),
    ],
)
def test_stripe_errors_are_mapped(auth_client, fake_stripe, prices, status, etype, expected):
    fake_stripe.fail_next(status, type=etype)
    response = auth_client.post("/api/v1/billing/checkout/", {"plan": "pro"})
    body = assert_api_error(response, expected, "payment_provider_error")
    assert "Injected" not in body["message"]


def test_stripe_unreachable_is_503(auth_client, settings, prices):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{port}"
    response = auth_client.post("/api/v1/billing/portal/", {})
    assert_api_error(response, 503, "payment_provider_error")
    assert response.headers["Retry-After"]


def test_stripe_timeout_is_503(auth_client, fake_stripe, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    fake_stripe.hang_next(1.0)
    response = auth_client.post("/api/v1/billing/portal/", {})
    assert_api_error(response, 503, "payment_provider_error")


def test_timeout_is_clamped_to_ten_seconds(settings):
    import stripe

    from billing import stripe_client

    settings.STRIPE_TIMEOUT_SECONDS = 60
    assert stripe_client.timeout_seconds() == 10.0
    assert stripe.default_http_client._timeout == (3.0, 10.0)
    assert stripe.api_version == stripe_client.API_VERSION


def test_each_user_gets_their_own_customer(user, other_user, fake_stripe, prices):
    for u in (user, other_user):
        assert client_for(u).post("/api/v1/billing/portal/", {}).status_code == 200
    assert Customer.objects.get(subscriber=user).id != Customer.objects.get(subscriber=other_user).id
