"""Anthropic and Stripe slow or failing, end to end through a real gunicorn: bounded time, JSON
errors with stable codes, no quota charged, no half-written state (the database is read after).

The unit-level cases live with the apps and are not repeated here: tests/assistant/test_send.py
(timeout, 500/529 after one retry, 429 without retry, 400, a transient 500 retried),
tests/assistant/test_quota.py (nothing reserved while Anthropic is called), and
tests/billing/test_checkout_portal.py (every Stripe error mapped, unreachable and timeout 503).
"""

from __future__ import annotations

import time

import pytest
import requests
from djstripe.models import Customer

from assistant.models import Message, MonthlyUsage
from tests.assistant.factories import ConversationFactory
from tests.factories import UserFactory
from tests.fuzz.harness import pytest_database_url
from tests.servers import gunicorn
from tests.timing import assert_within, baseline

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def bearer(user) -> dict[str, str]:
    from rest_framework_simplejwt.tokens import AccessToken

    return {"Authorization": f"Bearer {AccessToken.for_user(user)}"}


def timed_post(url: str, body: dict, headers: dict) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.post(url, json=body, headers=headers, timeout=30)
    return response, time.monotonic() - started


def healthy_request_time(base: str, user) -> float:
    """A signed-in request through the same server (and its first-request warm-up), as the
    baseline of the bounds below."""
    headers = bearer(user)
    return baseline(lambda: requests.get(f"{base}/api/v1/auth/me/", headers=headers, timeout=30).raise_for_status())


def test_server_with_anthropic_hanging_failing_and_throttling(anthropic_fake, django_db_blocker):
    user = UserFactory()
    conversation = ConversationFactory(user=user)
    timeout, deadline = 1.0, 2.5
    env = {
        "DATABASE_URL": pytest_database_url(),
        "ANTHROPIC_API_KEY": "sk-ant-test-key",
        "ANTHROPIC_BASE_URL": anthropic_fake.url,
        "ANTHROPIC_TIMEOUT_SECONDS": str(timeout),
        "ASSISTANT_DEADLINE_SECONDS": str(deadline),
        "ASSISTANT_SEND_RATE": "1000/min",
        "CACHE_KEY_PREFIX": f"faults-anthropic-{conversation.pk}",
    }
    cases = [  # fake mode, status, code, calls to Anthropic
        ("hang", 504, "assistant_timeout", 2),  # one bounded retry, both inside the deadline
        ("500", 502, "assistant_upstream_error", 2),
        ("529", 502, "assistant_upstream_error", 2),
        ("429", 429, "assistant_rate_limited", 1),  # Anthropic's retry-after goes to the client
    ]
    with gunicorn(env, settings="tests.resilience.fault_settings") as base:
        url = f"{base}/api/v1/assistant/conversations/{conversation.pk}/messages/"
        base_time = healthy_request_time(base, user)
        timings = {}
        for n, (mode, status, code, calls) in enumerate(cases):
            anthropic_fake.reset()
            anthropic_fake.mode = mode
            response, elapsed = timed_post(url, {"content": f"question {n}"}, bearer(user))
            timings[mode] = round(elapsed, 3)
            assert response.status_code == status, (mode, response.text)
            assert response.json()["code"] == code
            assert anthropic_fake.calls == calls, mode
            assert_within(elapsed, waits=deadline, base=base_time, what=mode)  # never past the deadline
            if mode == "hang":
                assert elapsed >= timeout, elapsed  # it did wait for Anthropic
            if mode == "429":
                assert response.headers["Retry-After"] == "7"
        print("Anthropic failing, request times (s):", timings)

        with django_db_blocker.unblock():
            usage = MonthlyUsage.objects.filter(user=user).first()
            assert usage is None or (usage.used_tokens, usage.reserved_tokens, usage.requests) == (0, 0, 0)
            kept = list(conversation.messages.order_by("created_at").values_list("role", "status", "error_code"))
            assert kept == [("user", "failed", code) for _, _, code, _ in cases]  # kept, not answered

        anthropic_fake.reset()
        response, _ = timed_post(url, {"content": "and now?"}, bearer(user))
        assert response.status_code == 201, response.text

    with django_db_blocker.unblock():
        usage = MonthlyUsage.objects.get(user=user)
        assert usage.requests == 1 and usage.used_tokens > 0 and usage.reserved_tokens == 0
        assert Message.objects.filter(conversation=conversation, status="ok").count() == 2


def test_server_with_stripe_hanging_failing_and_throttling(stripe_fake, django_db_blocker):
    user = UserFactory()
    timeout = 1.0
    env = {
        "DATABASE_URL": pytest_database_url(),
        "STRIPE_API_BASE": stripe_fake.url,
        "STRIPE_TIMEOUT_SECONDS": str(timeout),
        "CACHE_KEY_PREFIX": f"faults-stripe-{user.pk}",
    }
    hang_seconds = 2.0
    with gunicorn(env, settings="tests.resilience.fault_settings") as base:
        url = f"{base}/api/v1/billing/portal/"
        base_time = healthy_request_time(base, user)
        timings = {}
        # Stripe hangs on creating the customer: our side gives up after the timeout, while Stripe
        # goes on and creates it.
        stripe_fake.hang_next(hang_seconds)
        response, timings["hang"] = timed_post(url, {}, bearer(user))
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "payment_provider_error" and int(response.headers["Retry-After"]) > 0
        assert timeout <= timings["hang"], timings  # it waited for Stripe...
        assert_within(timings["hang"], waits=timeout, base=base_time, what="hang")  # ...up to its timeout

        for status, etype, expected in ((500, "api_error", 502), (429, "rate_limit_error", 503)):
            stripe_fake.fail_next(status, type=etype)
            response, timings[status] = timed_post(url, {}, bearer(user))
            assert response.status_code == expected, (status, response.text)
            assert response.json()["code"] == "payment_provider_error"
            assert "Injected" not in response.json()["message"]  # Stripe's text stays inside
        print("Stripe failing, request times (s):", {k: round(v, 3) for k, v in timings.items()})

        with django_db_blocker.unblock():
            assert not Customer.objects.filter(subscriber=user).exists()  # nothing half-written here

        deadline = time.monotonic() + hang_seconds + 30
        while not any(c["email"] == user.email for c in stripe_fake.objects["customers"].values()):
            assert time.monotonic() < deadline, "the hung request never finished at Stripe"
            time.sleep(0.05)  # the hung request finishes at Stripe, creating the customer
        response, _ = timed_post(url, {}, bearer(user))
        assert response.status_code == 200, response.text
        assert response.json()["url"].startswith("https://billing.stripe.test/")

    # Every attempt carried the same idempotency key, so Stripe made one customer, not one per retry.
    at_stripe = [c for c in stripe_fake.objects["customers"].values() if c["email"] == user.email]
    assert len(at_stripe) == 1
    creates = stripe_fake.calls("POST", "/v1/customers")
    assert len({c["headers"].get("Idempotency-Key") for c in creates}) == 1 and len(creates) == 4
    with django_db_blocker.unblock():
        assert list(Customer.objects.filter(subscriber=user).values_list("id", flat=True)) == [at_stripe[0]["id"]]
