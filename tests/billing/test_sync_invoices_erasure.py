"""Drift repair (command, job, admin action), invoices list, account erasure and export."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
import stripe
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone
from djstripe.models import Customer, Event, Invoice, PaymentMethod, Subscription, WebhookEventTrigger

from billing import services, stripe_client
from billing.errors import PaymentProviderError
from billing.jobs import sync_stripe
from billing.models import StripeErasure
from billing.selectors import entitlements_for_user
from core import registry
from tests.conftest import client_for
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.security.route_matrix import covers_route
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------------------------------------
# Drift repair
# ------------------------------------------------------------------------------------------------
def _corrupt(sub_id: str, **fields) -> None:
    row = Subscription.objects.get(id=sub_id)
    row.stripe_data = {**row.stripe_data, **fields}
    row.save(update_fields=["stripe_data"])


def test_billing_sync_fixes_a_wrong_local_row(user, subscribe):
    sub = subscribe(user, "pro")
    _corrupt(sub["id"], status="canceled")  # a lost webhook, a bad manual edit…
    assert entitlements_for_user(user=user).plan_code == "free"
    out = io.StringIO()
    call_command("billing_sync", stdout=out)
    assert Subscription.objects.get(id=sub["id"]).stripe_data["status"] == "active"
    assert entitlements_for_user(user=user).plan_code == "pro"
    text = out.getvalue()
    assert f"subscription {sub['id']}: active (fixed)" in text
    assert "1 fixed" in text and "Checking 1 customer(s)" in text


def test_billing_sync_brings_in_unknown_subscriptions_and_cancels_vanished_ones(
    user, other_user, fake_stripe, prices, subscribe
):
    gone = subscribe(other_user, "team")
    del fake_stripe.objects["subscriptions"][gone["id"]]  # Stripe no longer knows it
    customer = fake_stripe.add_customer(email=user.email, metadata={"djstripe_subscriber": str(user.pk)})
    unknown = fake_stripe.add_subscription(customer=customer["id"], price=prices["pro"])  # never webhooked
    call_command("billing_sync", stdout=io.StringIO())
    assert entitlements_for_user(user=user).plan_code == "pro"
    assert Subscription.objects.get(id=unknown["id"]).customer.subscriber == user
    assert Subscription.objects.get(id=gone["id"]).stripe_data["status"] == "canceled"
    assert entitlements_for_user(user=other_user).plan_code == "free"


def test_billing_sync_for_one_customer(user, other_user, fake_stripe, subscribe):
    mine, theirs = subscribe(user, "pro"), subscribe(other_user, "pro")
    _corrupt(mine["id"], status="canceled")
    _corrupt(theirs["id"], status="canceled")
    call_command("billing_sync", "--customer", mine["customer"], stdout=io.StringIO())
    assert Subscription.objects.get(id=mine["id"]).stripe_data["status"] == "active"
    assert Subscription.objects.get(id=theirs["id"]).stripe_data["status"] == "canceled"
    assert {
        r["params"].get("customer")
        for r in fake_stripe.calls("GET", "/v1/subscriptions")
        if r["path"] == "/v1/subscriptions"
    } == {mine["customer"]}


def test_billing_sync_since_passes_the_date_to_stripe(user, fake_stripe, subscribe):
    subscribe(user, "pro")
    call_command("billing_sync", "--since", "2026-01-01", stdout=io.StringIO())
    (listing,) = [r for r in fake_stripe.calls("GET") if r["path"] == "/v1/subscriptions"]
    assert listing["params"]["created"] == {"gte": str(int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()))}
    with pytest.raises(CommandError):
        call_command("billing_sync", "--since", "yesterday-ish", stdout=io.StringIO())


def test_billing_sync_reports_errors_and_fails(user, fake_stripe, subscribe):
    subscribe(user, "pro")
    fake_stripe.fail_next(500, times=50)
    with pytest.raises(PaymentProviderError) as error:  # the listing itself fails
        call_command("billing_sync", stdout=io.StringIO())
    assert error.value.code == "payment_provider_error"


def test_sync_job_returns_the_number_fixed(user, other_user, subscribe):
    a, b = subscribe(user, "pro"), subscribe(other_user, "team")
    _corrupt(a["id"], status="canceled")
    _corrupt(b["id"], items={"object": "list", "data": []})
    assert sync_stripe() == 2
    assert sync_stripe() == 0  # idempotent


def test_admin_resync_action(user, subscribe, admin_client):
    sub = subscribe(user, "pro")
    _corrupt(sub["id"], status="canceled")
    row = Subscription.objects.get(id=sub["id"])
    response = admin_client.post(
        "/admin/djstripe/subscription/", {"action": "resync_from_stripe", "_selected_action": [row.pk]}, follow=True
    )
    assert response.status_code == 200
    assert Subscription.objects.get(id=sub["id"]).stripe_data["status"] == "active"
    customer = Customer.objects.get(id=sub["customer"])
    _corrupt(sub["id"], status="canceled")
    admin_client.post("/admin/djstripe/customer/", {"action": "resync_from_stripe", "_selected_action": [customer.pk]})
    assert Subscription.objects.get(id=sub["id"]).stripe_data["status"] == "active"


def test_admin_pages_render_with_filters(user, subscribe, admin_client):
    sub = subscribe(user, "team")
    for url in (
        "/admin/djstripe/subscription/?status=active&plan=team",
        "/admin/djstripe/subscription/?status=canceled",
        "/admin/djstripe/customer/",
        "/admin/djstripe/invoice/",
        "/admin/billing/plan/",
        "/admin/billing/processedstripeevent/",
        "/admin/billing/stripeerasure/",
    ):
        assert admin_client.get(url).status_code == 200, url
    listing = admin_client.get("/admin/djstripe/subscription/?status=active&plan=team").content.decode()
    assert sub["id"] in listing
    assert sub["id"] not in admin_client.get("/admin/djstripe/subscription/?plan=pro").content.decode()
    customer = Customer.objects.get(id=sub["customer"])
    page = admin_client.get(f"/admin/djstripe/customer/{customer.pk}/change/").content.decode()
    assert "entitlements and usage" in page.lower() and '"code": "team"' in page.replace("&quot;", '"')


def test_billing_summary_for_user_is_a_selector_for_the_staff_console(user, subscribe):
    from billing.selectors import billing_summary_for_user
    from tests.projects.factories import ProjectFactory

    sub = subscribe(user, "pro")
    ProjectFactory.create_batch(2, owner=user)
    summary = billing_summary_for_user(user=user)
    assert summary["plan"]["code"] == "pro" and summary["customer_ids"] == [sub["customer"]]
    assert summary["limits"]["projects"]["usage"] == 2


# ------------------------------------------------------------------------------------------------
# Invoices
# ------------------------------------------------------------------------------------------------
def _mirror_invoices(fake_stripe, sub, count):
    for i in range(count):
        inv = fake_stripe.add_invoice(customer=sub["customer"], subscription=sub["id"], created=1_750_000_000 + i)
        Invoice.sync_from_stripe_data(stripe.Invoice.retrieve(inv["id"], api_key=stripe_client.api_key()))


@covers_route("billing:invoices", "other_tenant", methods=("get",))
def test_invoices_are_listed_newest_first_and_scoped(auth_client, user, other_user, fake_stripe, subscribe):
    _mirror_invoices(fake_stripe, subscribe(user, "pro"), 3)
    _mirror_invoices(fake_stripe, subscribe(other_user, "pro"), 2)
    body = auth_client.get("/api/v1/billing/invoices/").json()
    assert body["count"] == 3
    first = body["results"][0]
    assert set(first) == {
        "id",
        "number",
        "status",
        "amount_due",
        "amount_paid",
        "currency",
        "created",
        "period_start",
        "period_end",
        "hosted_invoice_url",
        "invoice_pdf",
    }
    assert first["status"] == "paid" and first["amount_due"] == 1500 and first["currency"] == "usd"
    assert first["hosted_invoice_url"].startswith("https://invoice.stripe.test/")
    created = [r["created"] for r in body["results"]]
    assert created == sorted(created, reverse=True)


@pytest.mark.parametrize("limit", [2, 20])
def test_invoices_use_constant_queries(auth_client, user, fake_stripe, subscribe, django_assert_num_queries, limit):
    _mirror_invoices(fake_stripe, subscribe(user, "pro"), 6)
    with django_assert_num_queries(3):  # user (JWT), count, page
        response = auth_client.get(f"/api/v1/billing/invoices/?limit={limit}")
    assert len(response.json()["results"]) == min(limit, 6)


def test_invoices_need_authentication(api_client):
    assert_api_error(api_client.get("/api/v1/billing/invoices/"), 401, "not_authenticated")


# ------------------------------------------------------------------------------------------------
# Account erasure and export
# ------------------------------------------------------------------------------------------------
def _erase(user) -> None:
    """What accounts' erasure does: run every registered eraser in its transaction, delete the user."""
    with transaction.atomic():
        for eraser in registry.erasers().values():
            eraser(user)
        user.delete()


@pytest.mark.django_db(transaction=True)
def test_erasure_deletes_the_customer_at_stripe_after_commit_and_redacts_the_mirror(fake_stripe, subscribe):
    user = UserFactory(name="Rosalind Redact")
    sub = subscribe(user, "pro")
    customer_id = sub["customer"]
    remote = fake_stripe.objects["customers"][customer_id]
    remote.update(name=user.name, address={"line1": "1 Redact Row", "city": "Erasmus"}, phone="+1 555 0100")
    services.customer_resync(customer_id=customer_id)
    pm = fake_stripe.add_payment_method(customer=customer_id)
    pm["billing_details"] = {"name": user.name, "email": user.email, "address": {"line1": "1 Redact Row"}}
    PaymentMethod.sync_from_stripe_data(stripe.PaymentMethod.retrieve(pm["id"], api_key=stripe_client.api_key()))
    invoice = fake_stripe.add_invoice(customer=customer_id, subscription=sub["id"])
    invoice.update(customer_email=user.email, customer_name=user.name, customer_address={"line1": "1 Redact Row"})
    Invoice.sync_from_stripe_data(stripe.Invoice.retrieve(invoice["id"], api_key=stripe_client.api_key()))
    _erase(user)
    assert customer_id not in fake_stripe.objects["customers"]  # deleted at Stripe…
    assert fake_stripe.objects["subscriptions"][sub["id"]]["status"] == "canceled"  # …which ends the plan
    assert invoice["id"] in fake_stripe.objects["invoices"]  # invoices stay in Stripe (tax records)
    assert StripeErasure.objects.get(customer_id=customer_id).completed_at is not None
    assert all(r["headers"].get("Idempotency-Key") for r in fake_stripe.calls("POST") + fake_stripe.calls("DELETE"))
    # our mirror keeps ids, amounts and dates, but no name, email, address, phone or billing details
    rows = [
        Customer.objects.get(id=customer_id),
        PaymentMethod.objects.get(id=pm["id"]),
        Invoice.objects.get(id=invoice["id"]),
    ]
    for row in rows:
        text = json.dumps(row.stripe_data) + json.dumps(row.metadata)
        assert user.email not in text and user.name not in text and "Redact Row" not in text and "555" not in text
        assert str(user.pk) not in text
    assert rows[0].email == "" and rows[0].subscriber_id is None and rows[0].date_purged is not None
    assert rows[2].stripe_data["amount_paid"] == 1500


@pytest.mark.django_db(transaction=True)
def test_rolled_back_erasure_calls_no_stripe(fake_stripe, subscribe):
    user = UserFactory()
    sub = subscribe(user, "pro")
    with pytest.raises(RuntimeError, match="^erasure failed later$"):  # ours, not one from the eraser
        with transaction.atomic():
            registry.erasers()["billing"](user)
            raise RuntimeError("erasure failed later")
    assert fake_stripe.objects["subscriptions"][sub["id"]]["status"] == "active"
    assert not StripeErasure.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_erasure_failing_at_stripe_is_retried_by_the_job(fake_stripe, subscribe):
    user = UserFactory()
    sub = subscribe(user, "pro")
    fake_stripe.fail_next(500)
    _erase(user)
    erasure = StripeErasure.objects.get(customer_id=sub["customer"])
    assert erasure.completed_at is None and erasure.attempts == 1 and erasure.last_error
    assert sub["customer"] in fake_stripe.objects["customers"]
    assert Customer.objects.get(id=sub["customer"]).email == ""  # the mirror is redacted anyway
    sync_stripe()
    assert StripeErasure.objects.get(pk=erasure.pk).completed_at is not None
    assert sub["customer"] not in fake_stripe.objects["customers"]
    assert fake_stripe.objects["subscriptions"][sub["id"]]["status"] == "canceled"


@pytest.mark.django_db(transaction=True)
def test_delete_me_with_stripe_down_erases_locally_and_the_job_deletes_the_customer_later(fake_stripe, subscribe):
    """Stripe unreachable during ``DELETE me/``: the erasure is not refused (the person's data here
    goes now, the Stripe side is an outbox retried by the job), and nothing is half-written."""
    user = UserFactory()
    sub = subscribe(user, "pro")
    fake_stripe.fail_next(503)
    response = client_for(user).delete("/api/v1/auth/me/", {"password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 204
    assert not type(user).objects.filter(pk=user.pk).exists()
    erasure = StripeErasure.objects.get(customer_id=sub["customer"])
    assert erasure.completed_at is None and erasure.attempts == 1
    assert Customer.objects.get(id=sub["customer"]).email == "" and str(user.pk) not in str(
        Subscription.objects.get(id=sub["id"]).stripe_data
    )
    sync_stripe()
    assert StripeErasure.objects.get(pk=erasure.pk).completed_at is not None
    assert sub["customer"] not in fake_stripe.objects["customers"]


def test_events_stripe_sends_about_an_erased_customer_are_forgotten_by_the_job(user, webhook, fake_stripe, subscribe):
    sub = subscribe(user, "pro")
    remote = dict(fake_stripe.objects["customers"][sub["customer"]], name="Late Event Person")
    with transaction.atomic():
        registry.erasers()["billing"](user)
    StripeErasure.objects.filter(customer_id=sub["customer"]).update(completed_at=timezone.now())
    # Stripe's customer.deleted carries the whole customer as it was; dj-stripe stores and mirrors it
    assert webhook.send("customer.deleted", {**remote, "deleted": True}).status_code == 200
    assert WebhookEventTrigger.objects.filter(body__contains="Late Event Person").exists()
    sync_stripe()
    assert not WebhookEventTrigger.objects.filter(body__contains=sub["customer"]).exists()
    assert not Event.objects.filter(
        id__in=[e.id for e in Event.objects.all() if sub["customer"] in json.dumps(e.stripe_data)]
    )
    assert "Late Event Person" not in json.dumps(Customer.objects.get(id=sub["customer"]).stripe_data)


def test_export_has_subscription_and_invoices(user, fake_stripe, subscribe):
    sub = subscribe(user, "pro")
    _mirror_invoices(fake_stripe, sub, 2)
    data = registry.exporters()["billing"](user)
    assert data["subscription"]["plan"]["code"] == "pro"
    assert data["subscription"]["subscription_id"] == sub["id"]
    assert len(data["invoices"]) == 2 and data["invoices"][0]["currency"] == "usd"
    json.dumps(data)  # JSON-serialisable


def test_webhook_view_answers_plain_client(db):
    # dj-stripe's view needs no JWT and no CSRF token
    assert Client().post("/stripe/webhook/00000000-0000-0000-0000-000000000000/").status_code == 400


def test_services_do_not_leave_a_customer_without_subscriber(user, fake_stripe):
    customer = services.customer_get_or_create(user=user)
    assert customer.subscriber == user
    assert fake_stripe.objects["customers"][customer.id]["metadata"] == {"djstripe_subscriber": str(user.pk)}


def test_customer_deleted_at_stripe_is_purged_and_a_new_one_is_made_next_time(user, fake_stripe):
    first = services.customer_get_or_create(user=user)
    del fake_stripe.objects["customers"][first.id]  # deleted in the dashboard, webhook lost
    call_command("billing_sync", stdout=io.StringIO())
    assert Customer.objects.get(id=first.id).date_purged is not None
    second = services.customer_get_or_create(user=user)
    assert second.id != first.id and second.subscriber == user
    assert len(fake_stripe.calls("POST", "/v1/customers")) == 2


def test_webhook_endpoint_is_set_up_from_the_environment(settings, fake_stripe, user, prices):
    from tests.billing.conftest import WebhookSender

    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_" + "a" * 32  # the secret the tests sign with
    settings.STRIPE_WEBHOOK_UUID = "7b0c4a52-2c8e-4d8f-9a53-0c2f8d1e6f10"
    out = io.StringIO()
    call_command("billing_webhook_setup", stdout=out)
    call_command("billing_webhook_setup", stdout=out)  # idempotent
    from djstripe.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.get()
    assert str(endpoint.djstripe_uuid) == settings.STRIPE_WEBHOOK_UUID
    assert "/stripe/webhook/7b0c4a52-2c8e-4d8f-9a53-0c2f8d1e6f10/" in out.getvalue()
    customer = fake_stripe.add_customer(email=user.email, metadata={"djstripe_subscriber": str(user.pk)})
    sub = fake_stripe.add_subscription(customer=customer["id"], price=prices["pro"])
    assert WebhookSender(endpoint).send("customer.subscription.created", sub).status_code == 200
    assert entitlements_for_user(user=user).plan_code == "pro"
    settings.STRIPE_WEBHOOK_SECRET = ""
    with pytest.raises(CommandError):
        call_command("billing_webhook_setup", stdout=out)
