"""Erasure leaves nothing behind (issue 16): a user who touched every feature is erased through
``DELETE /api/v1/auth/me/``; then every table (all columns, all rows, dj-stripe's and the token
blacklist included), the cache (every Redis key when REDIS_URL is set) and the storage bucket are
searched for their email, name and id (hex and dashed). The export taken before covers every
category of data the scan found."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from django.core import mail
from django.urls import reverse
from djstripe.models import Customer, Invoice, PaymentMethod

from accounts.models import AuthEvent
from billing import services as billing_services
from projects.models import File, Project
from tests.assistant.conftest import _fake_anthropic_server, fake_anthropic  # noqa: F401
from tests.billing.conftest import (  # noqa: F401
    fake_stripe,
    plan_catalogue,
    prices,
    webhook,
    webhook_endpoint,
)
from tests.conftest import client_for
from tests.console.conftest import admin_client
from tests.console.conftest import staff as console_staff
from tests.erasure_scan import needles_for, scan_cache, scan_database, scan_storage
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.fixtures.moto import moto_s3_server, s3  # noqa: F401

from .conftest import token_in

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ME = "/api/v1/auth/me/"
EXPORT = "/api/v1/auth/me/export/"
PROJECTS = "/api/v1/projects/"

# Every table the scan may find the user in before erasure → where the export shows that data.
# A new table holding personal data fails this test until its app exports (and erases) it.
EXPORTED_AS = {
    "accounts_user": "profile",
    "accounts_authevent": "auth_events",
    "token_blacklist_outstandingtoken": "sessions",
    "token_blacklist_blacklistedtoken": "sessions",
    "projects_project": "projects.projects",
    "projects_membership": "projects.projects",
    "projects_file": "projects.files_uploaded",
    "projects_invitation": "projects.invitations_received",
    "projects_activity": "projects.activity",
    "assistant_conversation": "assistant.conversations",
    "assistant_message": "assistant.conversations",
    "assistant_monthlyusage": "assistant.usage",
    "notifications_notification": "notifications.notifications",
    "notifications_notificationsettings": "notifications.preferences",
    "notifications_notificationpreference": "notifications.preferences",
    "notifications_emaildelivery": "notifications.emails",
    "core_idempotencyrecord": "requests",
    "djstripe_customer": "billing.customer",
    "djstripe_subscription": "billing.subscription",
    "djstripe_invoice": "billing.invoices",
    "djstripe_paymentmethod": "billing.payment_methods",
    "djstripe_event": "billing.customer",
    "djstripe_webhookeventtrigger": "billing.customer",
    "djstripe_idempotencykey": "billing.customer",
}


def _section(export: dict[str, Any], path: str) -> Any:
    value: Any = export
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


class Run:
    """Requests whose on-commit work (emails, storage deletes, Stripe calls) runs at once."""

    def __init__(self, capture: Any) -> None:
        self.capture = capture

    def __call__(self, client: Any, method: str, url: str, data: Any = None, **extra: Any) -> Any:
        with self.capture(execute=True):
            response = getattr(client, method)(url, data, format="json", **extra)
        assert response.status_code < 400, (url, response.status_code, response.content[:500])
        return response


def _upload(run: Run, client: Any, project_id: str, name: str, body: bytes) -> str:
    started = run(client, "post", f"{PROJECTS}{project_id}/files/uploads/", {"name": name, "size": len(body)}).json()
    stored = requests.post(
        started["upload"]["url"], data=started["upload"]["fields"], files={"file": (name, body)}, timeout=10
    )
    assert stored.status_code == 204, stored.text
    file_id = started["file"]["id"]
    run(client, "post", f"{PROJECTS}{project_id}/files/{file_id}/complete/")
    return file_id


def _invite_and_accept(run: Run, inviter: Any, project_id: str, invitee: Any) -> None:
    run(client_for(inviter), "post", f"{PROJECTS}{project_id}/members/", {"email": invitee.email, "role": "editor"})
    token = token_in([m for m in mail.outbox if invitee.email in m.to][-1])
    run(client_for(invitee), "post", "/api/v1/invitations/accept/", {"token": token})


@pytest.fixture
def busy_user(
    django_capture_on_commit_callbacks: Any,
    s3: Any,  # noqa: F811
    fake_stripe: Any,  # noqa: F811
    prices: Any,  # noqa: F811
    webhook: Any,  # noqa: F811
    fake_anthropic: Any,  # noqa: F811
    api_client: Any,
) -> dict[str, Any]:
    """A user who touched every feature, and the people around them."""
    run = Run(django_capture_on_commit_callbacks)
    user = UserFactory(email="zephyrine.quill@example.org", name="Zephyrine Quillfeather")
    owner = UserFactory(name="Olga Other")  # owns a project the user joins
    member = UserFactory(name="Mika Member")  # joins the user's project
    me = client_for(user)

    # auth: a login (refresh token in the blacklist app) and a failed attempt (auth event by address)
    run(api_client, "post", "/api/v1/auth/token/", {"email": user.email, "password": DEFAULT_PASSWORD})
    api_client.post("/api/v1/auth/token/", {"email": user.email, "password": "wrong"}, format="json")

    # projects: their own (created with an Idempotency-Key), someone else's they joined
    mine = run(me, "post", PROJECTS, {"name": "Zephyrine's garden"}, HTTP_IDEMPOTENCY_KEY="create-garden-1").json()
    theirs = run(client_for(owner), "post", PROJECTS, {"name": "Olga's lab"}).json()
    _invite_and_accept(run, owner, theirs["id"], user)  # invitation received (and accepted)
    _invite_and_accept(run, user, mine["id"], member)  # invitation sent (and accepted)
    run(me, "post", f"{PROJECTS}{mine['id']}/members/", {"email": "friend@example.net", "role": "viewer"})
    run(client_for(owner), "post", f"{PROJECTS}{theirs['id']}/members/", {"email": "pal@example.net", "role": "viewer"})

    # files: in their own project and in the other owner's project (S3 on moto)
    _upload(run, me, mine["id"], "zephyrine-notes.txt", b"notes of Zephyrine Quillfeather")
    _upload(run, me, theirs["id"], "lab-results.csv", b"sample,value\n1,2\n")

    # billing: checkout creates the Stripe customer; Stripe then holds a subscription, an invoice
    # and a card with billing details, and tells us by webhooks (dj-stripe keeps the events)
    run(me, "post", "/api/v1/billing/checkout/", {"plan": "pro"})
    customer = Customer.objects.get(subscriber=user)
    remote = fake_stripe.objects["customers"][customer.id]
    address = {"line1": "7 Quill Lane", "city": "Featherton", "postal_code": "QF1 7ZQ", "country": "GB"}
    remote.update(address=address, phone="+44 20 7946 0017")
    sub = fake_stripe.add_subscription(customer=customer.id, price=prices["pro"])
    invoice = fake_stripe.add_invoice(customer=customer.id, subscription=sub["id"])
    invoice.update(customer_email=user.email, customer_name=user.name, customer_address=address)
    card = fake_stripe.add_payment_method(customer=customer.id)
    card["billing_details"] = {"name": user.name, "email": user.email, "address": address, "phone": None}
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook.send("customer.updated", remote).status_code == 200
        assert webhook.send("customer.subscription.created", sub).status_code == 200
        assert webhook.send("invoice.paid", invoice).status_code == 200
    PaymentMethod.sync_from_stripe_data(card)
    billing_services.customer_resync(customer_id=customer.id)
    assert Invoice.objects.filter(customer=customer).exists()

    # assistant: a conversation of their own and one about the other owner's project; the reply is
    # cached (the fake echoes the question, name included)
    for project in (None, theirs["id"]):
        conversation = run(me, "post", "/api/v1/assistant/conversations/", {"project": project}).json()
        run(
            me,
            "post",
            f"/api/v1/assistant/conversations/{conversation['id']}/messages/",
            {"content": "Hello, I am Zephyrine Quillfeather (zephyrine.quill@example.org)."},
            HTTP_IDEMPOTENCY_KEY=f"ask-{conversation['id']}",
        )
    # notifications: preferences, in-app and email (the invitation above, billing mails)
    run(me, "put", "/api/v1/notifications/preferences/", {"digest_frequency": "weekly"})
    return {"user": user, "owner": owner, "member": member, "mine": mine, "theirs": theirs, "customer": customer.id}


@pytest.mark.parametrize("how", ["self", "staff"])
def test_erasure_leaves_nothing_behind_and_the_export_had_it_all(
    how: str,
    busy_user: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
    s3: Any,  # noqa: F811
    fake_stripe: Any,  # noqa: F811
) -> None:
    user = busy_user["user"]
    needles = needles_for(user)
    me = client_for(user)

    before = scan_database(needles)
    export = me.get(EXPORT).json()
    # every table that held the user's data is a category of the export, and that category is not empty
    unexported = sorted(set(before) - set(EXPORTED_AS))
    assert not unexported, f"tables holding the user's data that the export does not map: {unexported}"
    empty = sorted({t: EXPORTED_AS[t] for t in before if not _section(export, EXPORTED_AS[t])}.items())
    assert not empty, f"export sections empty although the data exists: {empty}"
    assert scan_cache(needles) and scan_storage(needles, bucket=s3)  # the scan does see them

    with django_capture_on_commit_callbacks(execute=True):
        if how == "self":
            response = me.delete(ME, {"password": DEFAULT_PASSWORD}, format="json")
            assert response.status_code == 204, response.content
        else:  # a staff member through the console, who looked at the account first
            staff = admin_client(console_staff(superuser=True, name="Root Admin"))
            assert staff.get(reverse("admin:accounts_user_change", args=[user.pk])).status_code == 200
            url = reverse("admin:accounts_user_console_action", args=[user.pk, "erase"])
            response = staff.post(url, {"confirm_email": user.email})
            assert response.status_code == 302 and not type(user).objects.filter(pk=user.pk).exists()

    assert scan_database(needles) == {}
    assert scan_cache(needles) == []
    assert scan_storage(needles, bucket=s3) == []
    # Stripe: the customer is deleted there; the invoices Stripe keeps for tax stay there
    assert busy_user["customer"] not in fake_stripe.objects["customers"]
    assert fake_stripe.calls("DELETE", f"/v1/customers/{busy_user['customer']}")
    assert fake_stripe.objects["invoices"]
    # the other people keep their own things
    assert busy_user["owner"].notifications.exists() and busy_user["member"].notifications.exists()
    assert not Project.objects.filter(pk=busy_user["mine"]["id"]).exists()
    # a file the user uploaded to someone else's project is that project's content: it stays, unlinked
    kept = File.objects.get(project_id=busy_user["theirs"]["id"], name="lab-results.csv")
    assert kept.uploaded_by_id is None and kept.key in s3.keys()
    assert AuthEvent.objects.filter(type="account_deleted").count() == 1
