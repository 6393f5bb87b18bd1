"""Staff groups: what support and billing may see and do, and the sync that grants new apps' permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from djstripe.models import WebhookEventTrigger

from console.roles import GROUPS, matching_permissions, sync_staff_groups
from tests.console.conftest import admin_url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _perms(group: str) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=group).permissions.select_related("content_type")
    }


def test_groups_exist_with_their_permissions() -> None:
    support, billing = _perms("support"), _perms("billing")
    assert {
        "accounts.view_user",
        "console.resend_verification",
        "console.revoke_sessions",
        "djstripe.view_subscription",
    } <= support
    assert not {"console.resync_billing", "console.view_billing_metrics", "djstripe.view_webhookeventtrigger"} & support
    assert not any(p.split(".")[1].startswith(("change_", "add_", "delete_")) for p in support)
    assert support < billing
    assert {
        "console.resync_billing",
        "console.reprocess_webhook",
        "djstripe.view_webhookeventtrigger",
        "djstripe.view_invoice",
    } <= billing
    assert "console.erase_user" not in billing and "console.deactivate_user" not in billing


def test_sync_grants_permissions_of_apps_that_arrive_later() -> None:
    Group.objects.get(name="support").permissions.clear()
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.create(app_label="projects", model="projectfuture")
    Permission.objects.create(content_type=ct, codename="view_projectfuture", name="Can view project future")
    Permission.objects.create(content_type=ct, codename="delete_projectfuture", name="Can delete project future")
    call_command("sync_staff_groups", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert "projects.view_projectfuture" in _perms("support")
    assert "projects.delete_projectfuture" not in _perms("support")


def test_matching_permissions_uses_wildcards() -> None:
    rows = [(1, "projects", "view_project"), (2, "projects", "change_project"), (3, "djstripe", "view_price")]
    assert matching_permissions(["projects.view_*", "djstripe.view_price"], rows) == {1, 3}


def test_sync_is_idempotent() -> None:
    first = sync_staff_groups()
    assert sync_staff_groups() == first and set(first) == set(GROUPS)


def test_support_reads_users_but_cannot_edit_or_run_billing_actions(support_client) -> None:
    user = UserFactory(email_verified=False)
    page = support_client.get(admin_url("accounts_user_change", user.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-action="resend_verification"' in html and 'data-action="revoke_sessions"' in html
    for hidden in ("resync_billing", "deactivate", "erase"):
        assert f'data-action="{hidden}"' not in html
    assert 'name="_save"' not in html  # read-only page
    for action in ("resync_billing", "deactivate", "erase"):
        assert support_client.post(admin_url("accounts_user_console_action", user.pk, action)).status_code == 403
    assert support_client.get(admin_url("accounts_user_console_action", user.pk, "erase")).status_code == 403
    assert support_client.post(admin_url("accounts_user_change", user.pk), {"email": "x@y.z"}).status_code == 403
    assert (
        support_client.post(admin_url("accounts_user_console_action", user.pk, "resend_verification")).status_code
        == 302
    )
    assert support_client.post(admin_url("accounts_user_console_action", user.pk, "revoke_sessions")).status_code == 302


def test_support_cannot_open_webhook_events_billing_can_but_not_edit(support_client, billing_client) -> None:
    trigger = WebhookEventTrigger.objects.create(remote_ip="127.0.0.1", headers={}, body="{}")
    assert support_client.get(admin_url("djstripe_webhookeventtrigger_changelist")).status_code == 403
    assert billing_client.get(admin_url("djstripe_webhookeventtrigger_changelist")).status_code == 200
    change = billing_client.get(admin_url("djstripe_webhookeventtrigger_change", trigger.pk)).content.decode()
    assert 'name="_save"' not in change


def test_billing_resyncs(billing_client, fake_stripe, subscribe) -> None:
    user = UserFactory()
    subscribe(user, "pro")
    html = billing_client.get(admin_url("accounts_user_change", user.pk)).content.decode()
    assert 'data-action="resync_billing"' in html and 'data-action="erase"' not in html
    assert billing_client.post(admin_url("accounts_user_console_action", user.pk, "resync_billing")).status_code == 302
    assert fake_stripe.calls("GET", "/v1/customers/")


def test_staff_without_a_group_sees_nothing(db) -> None:
    from tests.console.conftest import admin_client

    bare = admin_client(UserFactory(is_staff=True))
    index = bare.get(admin_url("index"))
    assert index.status_code == 200 and admin_url("accounts_user_changelist").encode() not in index.content
    assert bare.get(admin_url("accounts_user_changelist")).status_code == 403
