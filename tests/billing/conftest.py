"""Billing fixtures: a fake Stripe over HTTP, the webhook endpoint, signed events, subscribed users."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from djstripe.models import WebhookEndpoint

from billing import services
from tests.fakes.stripe_server import FakeStripe

# Concurrency tests need a server database (SQLite serialises writers with "database is locked").
needs_mysql = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("mysql"), reason="concurrent writers need MariaDB"
)

WEBHOOK_SECRET = "whsec_test_" + "a" * 32
PRO_KEY = "stackpro_pro_monthly"
TEAM_KEY = "stackpro_team_monthly"


@pytest.fixture(autouse=True)
def plan_catalogue(db: None) -> None:
    """The catalogue the data migration creates. Transactional tests (any app's) flush tables, and
    with --reuse-db the flushed state persists, so put the default plans back when they are missing."""
    from billing.models import Plan

    plans = importlib.import_module("billing.migrations.0001_initial").PLANS
    if Plan.objects.filter(code__in=[p["code"] for p in plans]).count() < len(plans):
        for plan in plans:
            Plan.objects.update_or_create(code=plan["code"], defaults=plan)


@pytest.fixture
def fake_stripe(settings: Any) -> Iterator[FakeStripe]:
    fake = FakeStripe().start()
    settings.STRIPE_API_BASE = fake.url  # billing reconfigures the SDK on setting_changed
    yield fake
    fake.stop()


@pytest.fixture
def prices(fake_stripe: FakeStripe) -> dict[str, dict[str, Any]]:
    return {"pro": fake_stripe.add_price(PRO_KEY, 1500), "team": fake_stripe.add_price(TEAM_KEY, 4900)}


@pytest.fixture
def webhook_endpoint(db: None) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        id="we_test_0001",
        url="https://api.stackpro.test/stripe/webhook/",
        secret=WEBHOOK_SECRET,
        enabled_events=["*"],
        status="enabled",
        livemode=False,
        api_version="2026-08-26.dahlia",
    )


def sign(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe's signature header: HMAC-SHA256 of ``t.payload`` with the endpoint secret."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def event_payload(
    event_type: str, obj: dict[str, Any], *, event_id: str | None = None, previous: dict[str, Any] | None = None
) -> str:
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "api_version": "2026-08-26.dahlia",
            "created": int(time.time()),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
    )


class WebhookSender:
    def __init__(self, endpoint: WebhookEndpoint) -> None:
        self.endpoint = endpoint
        self.url = f"/stripe/webhook/{endpoint.djstripe_uuid}/"

    def post(self, payload: str, *, signature: str | None = "auto", client: Client | None = None) -> Any:
        client = client or Client(raise_request_exception=False)
        headers = {}
        if signature == "auto":
            signature = sign(payload)
        if signature is not None:
            headers["HTTP_STRIPE_SIGNATURE"] = signature
        return client.post(self.url, data=payload, content_type="application/json", **headers)

    def send(self, event_type: str, obj: dict[str, Any], **kwargs: Any) -> Any:
        previous = kwargs.pop("previous", None)
        event_id = kwargs.pop("event_id", None)
        return self.post(event_payload(event_type, obj, event_id=event_id, previous=previous), **kwargs)


@pytest.fixture
def webhook(webhook_endpoint: WebhookEndpoint, fake_stripe: FakeStripe) -> WebhookSender:
    return WebhookSender(webhook_endpoint)


@pytest.fixture
def subscribe(fake_stripe: FakeStripe, prices: dict[str, dict[str, Any]]) -> Any:
    """Give ``user`` a Stripe customer and a subscription in the fake, mirrored locally."""

    def make(user: Any, plan: str = "pro", **kwargs: Any) -> dict[str, Any]:
        customer = fake_stripe.add_customer(email=user.email, metadata={"djstripe_subscriber": str(user.pk)})
        sub = fake_stripe.add_subscription(customer=customer["id"], price=prices[plan], **kwargs)
        services.subscription_resync(subscription_id=sub["id"])
        return sub

    return make
