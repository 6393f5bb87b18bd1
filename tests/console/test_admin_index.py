"""The admin's front page: a curated, read-only billing section, the rest of the Stripe mirror
hidden (superusers can still open it), internal tables read-only under "Operations"."""

from __future__ import annotations

from typing import Any

import pytest
from djstripe.models import Customer, Subscription
from rest_framework_simplejwt.tokens import RefreshToken

from tests.console.conftest import admin_url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MIRROR_TABLES = {"Customers", "Subscriptions", "Invoices", "Prices", "Products", "Events", "Webhook endpoints"}


def _sections(client: Any) -> dict[str, dict[str, dict[str, Any]]]:
    response = client.get(admin_url("index"))
    assert response.status_code == 200
    return {app["name"]: {m["name"]: m for m in app["models"]} for app in response.context["app_list"]}


def test_superuser_sees_the_curated_billing_section_and_operations(root_client) -> None:
    sections = _sections(root_client)
    billing = sections["Billing"]
    assert MIRROR_TABLES | {"Webhook event triggers", "Plans"} <= set(billing)
    assert not any(billing[name]["add_url"] for name in MIRROR_TABLES | {"Webhook event triggers"})
    assert billing["Plans"]["add_url"]  # our own catalogue stays editable
    assert {"Idempotency records", "Outstanding Tokens", "Blacklisted Tokens"} <= set(sections["Operations"])
    assert not any(m["add_url"] for m in sections["Operations"].values())
    labels = [app["app_label"] for app in root_client.get(admin_url("index")).context["app_list"]]
    assert not {"djstripe", "token_blacklist", "core"} & set(labels) and labels.count("billing") == 1
    html = root_client.get(admin_url("index")).content.decode()
    for hidden in ("Charges", "Payouts", "Mandates", "Application fees", "Transfers"):
        assert f">{hidden}<" not in html


def test_the_rest_of_the_mirror_is_read_only_and_for_superusers_only(root_client, billing_client) -> None:
    changelist = root_client.get(admin_url("djstripe_charge_changelist"))
    assert changelist.status_code == 200 and 'value="_sync_all_instances"' not in changelist.content.decode()
    assert root_client.get(admin_url("djstripe_charge_add")).status_code == 403
    assert root_client.get(admin_url("djstripe_payout_add")).status_code == 403
    assert billing_client.get(admin_url("djstripe_charge_changelist")).status_code == 403
    assert billing_client.get(admin_url("djstripe_paymentmethod_changelist")).status_code == 403


def test_curated_mirror_tables_cannot_be_added_changed_or_deleted(root_client) -> None:
    customer = Customer.objects.create(id="cus_ro", stripe_data={"id": "cus_ro", "object": "customer"})
    assert root_client.get(admin_url("djstripe_customer_add")).status_code == 403
    page = root_client.get(admin_url("djstripe_customer_change", customer.pk))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert root_client.post(admin_url("djstripe_customer_change", customer.pk), {"email": "x@y.z"}).status_code == 403
    assert root_client.post(admin_url("djstripe_customer_delete", customer.pk), {"post": "yes"}).status_code == 403
    assert root_client.get(admin_url("djstripe_webhookendpoint_add")).status_code == 403
    assert Customer.objects.get(pk=customer.pk).email == ""


def test_the_processed_events_ledger_cannot_be_emptied(root_client) -> None:
    """A deleted ProcessedStripeEvent row would let a replayed webhook run its reaction again."""
    from billing.models import ProcessedStripeEvent

    row = ProcessedStripeEvent.objects.create(event_id="evt_done", type="invoice.paid")
    assert (
        root_client.post(admin_url("billing_processedstripeevent_delete", row.pk), {"post": "yes"}).status_code == 403
    )
    changelist = root_client.get(admin_url("billing_processedstripeevent_changelist")).content.decode()
    assert 'value="delete_selected"' not in changelist
    assert ProcessedStripeEvent.objects.filter(pk=row.pk).exists()


def test_operations_tables_are_read_only(root_client) -> None:
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    RefreshToken.for_user(UserFactory())
    token = OutstandingToken.objects.get()
    assert root_client.get(admin_url("token_blacklist_blacklistedtoken_add")).status_code == 403
    assert (
        root_client.post(admin_url("token_blacklist_outstandingtoken_delete", token.pk), {"post": "yes"}).status_code
        == 403
    )
    assert root_client.get(admin_url("core_idempotencyrecord_changelist")).status_code == 200
    assert root_client.get(admin_url("core_idempotencyrecord_add")).status_code == 403
    assert not BlacklistedToken.objects.exists() and OutstandingToken.objects.exists()


def test_staff_roles_see_their_part_of_the_billing_section(support_client, billing_client) -> None:
    support = _sections(support_client)
    assert set(support["Billing"]) == {"Customers", "Subscriptions", "Prices", "Products"}
    assert "Operations" not in support
    billing = _sections(billing_client)
    assert MIRROR_TABLES | {"Webhook event triggers", "Plans"} <= set(billing["Billing"])
    assert "Operations" not in billing
    assert not any(m["add_url"] for name, m in billing["Billing"].items() if name != "Plans")  # no billing.add_*


def test_resync_from_stripe_is_offered_to_billing_staff_only(support_client, billing_client) -> None:
    url = admin_url("djstripe_subscription_changelist")
    assert 'value="resync_from_stripe"' not in support_client.get(url).content.decode()
    billing_page = billing_client.get(url).content.decode()
    assert 'value="resync_from_stripe"' in billing_page
    assert 'value="_cancel"' not in billing_page and 'value="delete_selected"' not in billing_page


def test_staff_cannot_post_to_dj_stripes_unchecked_action_view(fake_stripe, subscribe, db) -> None:
    """dj-stripe's admin action view (cancel, sync everything) checked no permission: any staff
    member, even one without a group, could cancel a customer's subscription at Stripe."""
    from tests.console.conftest import admin_client

    sub = subscribe(UserFactory(), "pro")
    row = Subscription.objects.get(id=sub["id"])
    bare = admin_client(UserFactory(is_staff=True))
    url = admin_url("djstripe_subscription_changelist") + "action/_cancel/subscription/"
    bare.post(url, {"_selected_action": [row.pk]})  # now the admin's "<object id>/" route: no such object
    assert not fake_stripe.calls("DELETE", f"/v1/subscriptions/{sub['id']}")
    assert fake_stripe.objects["subscriptions"][sub["id"]]["status"] == "active"
    assert Subscription.objects.get(id=sub["id"]).stripe_data["status"] == "active"
