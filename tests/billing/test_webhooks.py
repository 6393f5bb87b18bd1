"""Webhooks through dj-stripe's endpoint: signatures, every handled type, exactly once, order."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from djstripe.models import Customer, Event, Invoice, Subscription, WebhookEventTrigger

from billing.models import ProcessedStripeEvent
from billing.selectors import entitlements_for_user
from notifications.models import Notification
from tests.billing.conftest import event_payload, needs_mysql, sign
from tests.nothing_changed import nothing_changed
from tests.security.route_matrix import covers_route

pytestmark = pytest.mark.django_db


def _billing_notifications(user):
    return list(Notification.objects.filter(user=user, category="billing").order_by("created_at"))


def _customer(fake_stripe, user):
    return fake_stripe.add_customer(email=user.email, metadata={"djstripe_subscriber": str(user.pk)})


# ------------------------------------------------------------------------------------------------
# Signatures
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "signature",
    [
        None,  # missing
        "t=123,v1=deadbeef",  # garbage
        "wrong-secret",  # signed with another secret
        "stale",  # older than the 300 s tolerance
    ],
)
@covers_route("djstripe:djstripe_webhook_by_uuid", "anonymous", methods=("post",))
def test_bad_signatures_are_400_and_nothing_is_processed(user, webhook, fake_stripe, prices, signature):
    sub = fake_stripe.add_subscription(customer=_customer(fake_stripe, user)["id"], price=prices["pro"])
    payload = event_payload("customer.subscription.created", sub)
    if signature == "wrong-secret":
        signature = sign(payload, secret="whsec_other_" + "b" * 30)
    elif signature == "stale":
        signature = sign(payload, timestamp=int(time.time()) - 301)
    with nothing_changed():
        response = webhook.post(payload, signature=signature)
    assert response.status_code == 400
    assert not Event.objects.exists()
    assert not ProcessedStripeEvent.objects.exists()
    assert not Subscription.objects.exists()
    assert _billing_notifications(user) == []
    assert fake_stripe.requests == []  # not even a call back to Stripe
    assert not WebhookEventTrigger.objects.filter(processed=True).exists()


def test_signature_within_tolerance_is_accepted(user, webhook, fake_stripe, prices):
    sub = fake_stripe.add_subscription(customer=_customer(fake_stripe, user)["id"], price=prices["pro"])
    payload = event_payload("customer.subscription.created", sub, event_id="evt_tolerance_1")
    assert webhook.post(payload, signature=sign(payload, timestamp=int(time.time()) - 200)).status_code == 200
    assert ProcessedStripeEvent.objects.filter(event_id="evt_tolerance_1").exists()  # processed, not just accepted
    assert entitlements_for_user(user=user).plan_code == "pro"


def test_unknown_endpoint_uuid_is_404(client):
    response = client.post(
        "/stripe/webhook/00000000-0000-0000-0000-000000000000/",
        data="{}",
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=x",
    )
    assert response.status_code == 404


# ------------------------------------------------------------------------------------------------
# Every handled type
# ------------------------------------------------------------------------------------------------
def test_subscription_created_grants_the_plan_and_notifies(user, webhook, fake_stripe, prices):
    sub = fake_stripe.add_subscription(customer=_customer(fake_stripe, user)["id"], price=prices["team"])
    assert webhook.send("customer.subscription.created", sub).status_code == 200
    assert Customer.objects.get(id=sub["customer"]).subscriber == user
    assert entitlements_for_user(user=user).plan_code == "team"
    (note,) = _billing_notifications(user)
    assert "Team" in note.title


def test_subscription_updated_with_a_relevant_change_notifies(user, webhook, fake_stripe, prices, subscribe):
    sub = subscribe(user, "pro")
    fake_stripe.set_subscription(sub["id"], price=prices["team"])
    response = webhook.send(
        "customer.subscription.updated", fake_stripe.objects["subscriptions"][sub["id"]], previous={"items": {}}
    )
    assert response.status_code == 200
    assert entitlements_for_user(user=user).plan_code == "team"
    assert len(_billing_notifications(user)) == 1
    # An update that changes nothing the user cares about is stored but not announced.
    assert webhook.send("customer.subscription.updated", sub, previous={"metadata": {}}).status_code == 200
    assert len(_billing_notifications(user)) == 1


def test_subscription_deleted_returns_to_free(user, webhook, fake_stripe, subscribe):
    sub = subscribe(user, "pro")
    fake_stripe.set_subscription(sub["id"], status="canceled")
    assert webhook.send("customer.subscription.deleted", sub).status_code == 200
    assert entitlements_for_user(user=user).plan_code == "free"
    assert "ended" in _billing_notifications(user)[0].title


def _completed_checkout(
    fake_stripe, session_id: str, customer_id: str, subscription_id: str, user, *, metadata: dict
) -> dict:
    """A completed subscription Checkout Session (as Stripe sends it), known to the fake Stripe."""
    session = {
        "id": session_id,
        "object": "checkout.session",
        "mode": "subscription",
        "customer": customer_id,
        "subscription": subscription_id,
        "client_reference_id": str(user.pk),
        "status": "complete",
        "livemode": False,
        "metadata": metadata,
        "created": int(time.time()),
    }
    fake_stripe.objects["checkout/sessions"][session_id] = session
    return session


def test_checkout_completed_links_customer_and_syncs_subscription(user, webhook, fake_stripe, prices):
    customer = fake_stripe.add_customer(email=user.email)  # no metadata: created by Checkout itself
    sub = fake_stripe.add_subscription(customer=customer["id"], price=prices["pro"])
    session = _completed_checkout(fake_stripe, "cs_test_1", customer["id"], sub["id"], user, metadata={})
    assert webhook.send("checkout.session.completed", session).status_code == 200
    assert Customer.objects.get(id=customer["id"]).subscriber == user
    assert entitlements_for_user(user=user).plan_code == "pro"
    assert "Pro" in _billing_notifications(user)[0].title


def test_checkout_and_subscription_created_notify_once(user, webhook, fake_stripe, prices):
    customer = _customer(fake_stripe, user)
    sub = fake_stripe.add_subscription(customer=customer["id"], price=prices["pro"])
    fake_stripe.set_subscription(sub["id"], metadata={"user_id": str(user.pk), "plan": "pro"})  # from our Checkout
    session = _completed_checkout(fake_stripe, "cs_test_2", customer["id"], sub["id"], user, metadata={"plan": "pro"})
    assert webhook.send("customer.subscription.created", sub).status_code == 200
    assert webhook.send("checkout.session.completed", session).status_code == 200
    assert len(_billing_notifications(user)) == 1
    assert entitlements_for_user(user=user).plan_code == "pro"


def test_invoice_paid_mirrors_the_invoice_and_notifies(user, webhook, fake_stripe, subscribe):
    sub = subscribe(user, "pro")
    invoice = fake_stripe.add_invoice(customer=sub["customer"], subscription=sub["id"], amount=1500)
    assert webhook.send("invoice.paid", invoice).status_code == 200
    assert Invoice.objects.filter(id=invoice["id"]).exists()
    (note,) = _billing_notifications(user)
    assert note.title == "Payment received" and "15.00 USD" in note.body


def test_a_zero_decimal_currency_is_not_divided_by_a_hundred(user, webhook, fake_stripe, subscribe):
    """Stripe sends JPY (and the other zero-decimal currencies) in whole yen: ¥1,500 is 1500, not 15.00."""
    sub = subscribe(user, "pro")
    invoice = fake_stripe.add_invoice(customer=sub["customer"], subscription=sub["id"], amount=1500, currency="jpy")
    assert webhook.send("invoice.paid", invoice).status_code == 200
    (note,) = _billing_notifications(user)
    assert note.body.startswith("1500 JPY — invoice"), note.body


def test_invoice_payment_failed_resyncs_and_notifies(user, webhook, fake_stripe, subscribe, settings):
    settings.BILLING_PAST_DUE_GRACE_DAYS = 7
    sub = subscribe(user, "pro")
    fake_stripe.set_subscription(sub["id"], status="past_due")
    invoice = fake_stripe.add_invoice(customer=sub["customer"], subscription=sub["id"], status="open")
    assert webhook.send("invoice.payment_failed", invoice).status_code == 200
    assert Subscription.objects.get(id=sub["id"]).stripe_data["status"] == "past_due"
    assert entitlements_for_user(user=user).plan_code == "pro"  # within the grace period
    assert _billing_notifications(user)[0].title == "Your payment failed"


def test_customer_deleted_purges_and_returns_to_free(user, webhook, fake_stripe, subscribe):
    sub = subscribe(user, "team")
    customer = dict(fake_stripe.objects["customers"][sub["customer"]])
    del fake_stripe.objects["customers"][sub["customer"]]  # gone at Stripe
    assert webhook.send("customer.deleted", {**customer, "deleted": True}).status_code == 200
    assert Customer.objects.get(id=customer["id"]).date_purged is not None
    assert entitlements_for_user(user=user).plan_code == "free"
    assert "closed" in _billing_notifications(user)[0].title


# ------------------------------------------------------------------------------------------------
# Exactly once
# ------------------------------------------------------------------------------------------------
def test_replayed_event_has_one_side_effect(user, webhook, fake_stripe, prices):
    sub = fake_stripe.add_subscription(customer=_customer(fake_stripe, user)["id"], price=prices["pro"])
    payload = event_payload("customer.subscription.created", sub, event_id="evt_replay_1")
    for _ in range(3):
        assert webhook.post(payload).status_code == 200
    assert len(_billing_notifications(user)) == 1
    assert ProcessedStripeEvent.objects.filter(event_id="evt_replay_1").count() == 1


def test_event_delivered_days_later_after_dj_stripe_pruned_it(user, webhook, fake_stripe, prices):
    """dj-stripe's own guard is its Event row; ours is independent of it."""
    sub = fake_stripe.add_subscription(customer=_customer(fake_stripe, user)["id"], price=prices["pro"])
    payload = event_payload("customer.subscription.created", sub, event_id="evt_late_1")
    assert webhook.post(payload).status_code == 200
    Event.objects.filter(id="evt_late_1").delete()
    assert webhook.post(payload).status_code == 200  # freshly signed, same event id
    assert len(_billing_notifications(user)) == 1


def test_failure_returns_5xx_and_the_retry_does_not_double(user, webhook, fake_stripe, prices):
    sub = fake_stripe.add_subscription(customer=_customer(fake_stripe, user)["id"], price=prices["pro"])
    payload = event_payload("customer.subscription.created", sub, event_id="evt_fail_1")
    # The account and customer are fetched first; make our subscription re-read fail.
    fake_stripe.fail_next(500, times=10)
    response = webhook.post(payload)
    assert response.status_code >= 500
    assert not ProcessedStripeEvent.objects.exists()
    assert _billing_notifications(user) == []
    assert not Event.objects.filter(id="evt_fail_1").exists()  # rolled back: Stripe's retry reprocesses
    fake_stripe._failures.clear()
    assert webhook.post(payload).status_code == 200
    assert webhook.post(payload).status_code == 200
    assert len(_billing_notifications(user)) == 1


@pytest.mark.mysql
@needs_mysql
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_have_one_side_effect(user, webhook, fake_stripe, prices):
    sub = fake_stripe.add_subscription(customer=_customer(fake_stripe, user)["id"], price=prices["pro"])
    payload = event_payload("customer.subscription.created", sub, event_id="evt_concurrent_1")
    # Warm dj-stripe's account/API-key rows so every thread races on the event itself.
    warm = fake_stripe.add_subscription(customer=sub["customer"], price=prices["pro"])
    assert webhook.send("customer.subscription.created", warm).status_code == 200
    before = len(_billing_notifications(user))

    statuses: list[int] = []
    barrier = threading.Barrier(10)

    def deliver() -> None:
        try:
            barrier.wait()
            statuses.append(webhook.post(payload).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == 10 and 200 in statuses
    # A loser of the race may answer 5xx (Stripe then retries and finds the event done) — never a
    # second side effect.
    assert all(s == 200 or s >= 500 for s in statuses), statuses
    assert len(_billing_notifications(user)) == before + 1
    assert ProcessedStripeEvent.objects.filter(event_id="evt_concurrent_1").count() == 1
    assert webhook.post(payload).status_code == 200
    assert len(_billing_notifications(user)) == before + 1


# ------------------------------------------------------------------------------------------------
# Out of order
# ------------------------------------------------------------------------------------------------
def test_out_of_order_events_end_in_stripes_current_state(user, webhook, fake_stripe, prices, subscribe):
    sub = subscribe(user, "pro")
    # At Stripe: pro → team → canceled. The events arrive newest first, then the oldest.
    created = dict(sub)
    fake_stripe.set_subscription(sub["id"], price=prices["team"])
    upgraded = {**fake_stripe.objects["subscriptions"][sub["id"]]}
    fake_stripe.set_subscription(sub["id"], status="canceled")
    cancelled = {**fake_stripe.objects["subscriptions"][sub["id"]]}

    assert webhook.send("customer.subscription.deleted", cancelled).status_code == 200
    assert (
        webhook.send(
            "customer.subscription.updated", {**upgraded, "status": "active"}, previous={"items": {}}
        ).status_code
        == 200
    )
    assert webhook.send("customer.subscription.created", {**created, "status": "active"}).status_code == 200

    row = Subscription.objects.get(id=sub["id"])
    assert row.stripe_data["status"] == "canceled"
    assert row.stripe_data["items"]["data"][0]["price"]["lookup_key"] == prices["team"]["lookup_key"]
    assert entitlements_for_user(user=user).plan_code == "free"


def test_unhandled_event_types_are_accepted_without_side_effects(user, webhook, fake_stripe):
    customer = _customer(fake_stripe, user)
    assert webhook.send("customer.updated", customer).status_code == 200
    assert not ProcessedStripeEvent.objects.exists()
    assert _billing_notifications(user) == []
