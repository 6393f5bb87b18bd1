"""The user page: search, panels (plan, usage, auth events, projects), and the staff actions."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.core import mail
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.gdpr import erased_email_digest
from accounts.models import AuthEvent, User
from core import registry as core_registry
from tests.console import stripe_data
from tests.console.conftest import admin_url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_search_finds_users_by_email_or_name(root_client) -> None:
    UserFactory(email="ada@lovelace.org", name="Ada Lovelace")
    UserFactory(email="alan@turing.org", name="Alan Turing")
    by_email = root_client.get(admin_url("accounts_user_changelist"), {"q": "lovelace.org"}).content.decode()
    assert "ada@lovelace.org" in by_email and "alan@turing.org" not in by_email
    by_name = root_client.get(admin_url("accounts_user_changelist"), {"q": "turing"}).content.decode()
    assert "alan@turing.org" in by_name and "ada@lovelace.org" not in by_name


def test_user_page_shows_status_plan_usage_and_subscription(root_client, monkeypatch) -> None:
    user = UserFactory(email="eve@example.com", email_verified=False)
    sub = stripe_data.subscription(customer=stripe_data.customer(user), nickname="Pro monthly")
    monkeypatch.setattr(
        core_registry, "_usage", {"projects": lambda u: 2, "storage_bytes": lambda u: 150 * 1024 * 1024}
    )
    html = root_client.get(admin_url("accounts_user_change", user.pk)).content.decode()
    assert 'data-panel="status"' in html and "eve@example.com" in html
    assert "Plan: <strong>Free</strong>" in html
    assert sub.id in html and "Pro monthly" in html and "active" in html
    usage = html.split('data-panel="usage"')[1].split("</section>")[0]
    assert "2\n" in usage or ">2" in usage or " 2 " in usage
    assert 'value="67"' in usage  # 2 of 3 projects
    assert 'class="console-bad"' in usage  # 150 MB of 100 MB storage
    assert "not reported" in usage  # AI tokens: no provider yet
    assert "Projects owned" in html  # the projects panel placeholder
    # actions available to a superuser for an unverified, active user
    for action in ("deactivate", "revoke_sessions", "resend_verification", "resync_billing", "erase"):
        assert f'data-action="{action}"' in html
    assert 'data-action="reactivate"' not in html


def test_deactivate_revokes_sessions_and_reactivate(root_client, superuser) -> None:
    user = UserFactory()
    refresh = RefreshToken.for_user(user)
    response = root_client.post(admin_url("accounts_user_console_action", user.pk, "deactivate"), follow=True)
    assert f"Deactivate — {user.email}: deactivated; every session revoked." in _messages(response)
    user.refresh_from_db()
    assert user.is_active is False
    assert BlacklistedToken.objects.filter(token__jti=refresh["jti"]).exists()
    event = AuthEvent.objects.get(user=user, type="deactivated")
    assert event.data["by"] == str(superuser.pk)
    assert LogEntry.objects.filter(object_id=str(user.pk), change_message="Console action: Deactivate").exists()
    html = root_client.get(admin_url("accounts_user_change", user.pk)).content.decode()
    assert 'data-action="reactivate"' in html and 'data-action="deactivate"' not in html
    assert "deactivated" in html.split('data-panel="recent-auth-events"')[1].split("</section>")[0]
    root_client.post(admin_url("accounts_user_console_action", user.pk, "reactivate"))
    user.refresh_from_db()
    assert user.is_active is True


def test_revoke_sessions_blacklists_every_outstanding_refresh_token(root_client) -> None:
    user, other = UserFactory(), UserFactory()
    for _ in range(3):
        RefreshToken.for_user(user)
    RefreshToken.for_user(other)
    response = root_client.post(admin_url("accounts_user_console_action", user.pk, "revoke_sessions"), follow=True)
    assert f"Revoke all sessions — {user.email}: 3 session(s) revoked." in _messages(response)
    assert BlacklistedToken.objects.filter(token__user=user).count() == 3
    assert not BlacklistedToken.objects.filter(token__user=other).exists()
    assert AuthEvent.objects.get(user=user, type="tokens_revoked").data["count"] == 3


def test_resend_verification_sends_the_accounts_email(root_client, django_capture_on_commit_callbacks) -> None:
    user = UserFactory(email_verified=False, email="new@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = root_client.post(
            admin_url("accounts_user_console_action", user.pk, "resend_verification"), follow=True
        )
    assert "Resend verification email — new@example.com: verification email sent." in _messages(response)
    assert [m.to for m in mail.outbox] == [["new@example.com"]]


def test_resync_billing_rereads_the_users_subscription_from_stripe(root_client, fake_stripe, subscribe) -> None:
    from djstripe.models import Subscription

    user = UserFactory()
    sub = subscribe(user, "pro")
    fake_stripe.set_subscription(sub["id"], status="past_due")  # changed at Stripe; the webhook was lost
    response = root_client.post(admin_url("accounts_user_console_action", user.pk, "resync_billing"), follow=True)
    (message,) = _messages(response)
    assert "Resync billing from Stripe" in message and "1 customer(s)" in message and "1 fixed" in message
    assert Subscription.objects.get(id=sub["id"]).stripe_data["status"] == "past_due"
    no_customer = UserFactory()
    response = root_client.post(
        admin_url("accounts_user_console_action", no_customer.pk, "resync_billing"), follow=True
    )
    assert "no Stripe customer: nothing to resync" in _messages(response)[0]


def test_resync_billing_reports_stripe_failures(root_client, fake_stripe, subscribe) -> None:
    user = UserFactory()
    subscribe(user, "pro")
    fake_stripe.fail_next(500, times=10)
    response = root_client.post(admin_url("accounts_user_console_action", user.pk, "resync_billing"), follow=True)
    (message,) = _messages(response)
    assert message == "Resync billing from Stripe failed: The payment provider could not process the request."


def test_erase_asks_for_confirmation_first(root_client, superuser) -> None:
    user = UserFactory(email="gone@example.com")
    url = admin_url("accounts_user_console_action", user.pk, "erase")
    page = root_client.get(url)
    assert page.status_code == 200 and b"Type the account's email address" in page.content
    wrong = root_client.post(url, {"confirm_email": "someone@else.com"}, follow=True)
    assert "Type the account's email address to confirm." in _messages(wrong)
    assert User.objects.filter(pk=user.pk).exists()
    done = root_client.post(url, {"confirm_email": "GONE@example.com "}, follow=True)
    assert "Erase account — gone@example.com: erased." in _messages(done)
    assert not User.objects.filter(pk=user.pk).exists()
    deleted = AuthEvent.objects.get(type="account_deleted", data__email_hmac=erased_email_digest("gone@example.com"))
    assert deleted.data["by"] == f"staff:{superuser.pk}"
    # the staff audit trail keeps that it happened, not whose account it was
    entry = LogEntry.objects.get(change_message="Console action: Erase account")
    assert entry.user == superuser and entry.object_repr == "(erased account)" and entry.object_id is None


def test_actions_need_post_and_a_known_action(root_client) -> None:
    user = UserFactory()
    assert root_client.get(admin_url("accounts_user_console_action", user.pk, "deactivate")).status_code == 405
    assert root_client.post(admin_url("accounts_user_console_action", user.pk, "explode")).status_code == 404
    assert root_client.post(admin_url("accounts_user_console_action", "not-a-uuid", "deactivate")).status_code == 404


def test_staff_can_add_a_user_by_email(root_client) -> None:
    response = root_client.post(
        admin_url("accounts_user_add"),
        {
            "email": "New@Example.com",
            "name": "New",
            "usable_password": "true",
            "password1": "a-Long-passphrase-42",
            "password2": "a-Long-passphrase-42",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(email="new@example.com").check_password("a-Long-passphrase-42")


def test_a_failing_panel_does_not_break_the_page(support_client, monkeypatch) -> None:
    from console import panels

    def broken_panel(user):
        raise RuntimeError("the projects database is down")

    monkeypatch.setattr(panels, "USER_PANELS", (panels.auth_events_panel, broken_panel))
    html = support_client.get(admin_url("accounts_user_change", UserFactory().pk)).content.decode()
    assert "Recent auth events" in html
    assert "<h2>Broken</h2>" in html and "This panel failed to load." in html


def test_user_page_shows_the_renewal_date_from_stripe(root_client, fake_stripe, subscribe) -> None:
    """In the pinned API version the period lives on the subscription's items, not at its top."""
    from datetime import UTC, datetime

    from django.utils import formats, timezone

    user = UserFactory()
    sub = subscribe(user, "pro", period_start=1_900_000_000, period_days=30)
    assert "current_period_end" not in sub and sub["items"]["data"][0]["current_period_end"] == 1_902_592_000
    renewal = datetime.fromtimestamp(1_902_592_000, tz=UTC)
    html = root_client.get(admin_url("accounts_user_change", user.pk)).content.decode()
    plan = html.split('data-panel="plan"')[1].split("</section>")[0]
    assert sub["id"] in plan
    assert f"<td>{formats.localize(timezone.template_localtime(renewal))}</td>" in plan


def test_user_page_lists_the_projects_they_own(root_client) -> None:
    from projects.models import Project

    owner, other = UserFactory(), UserFactory()
    Project.objects.create(owner=owner, name="Apollo")
    Project.objects.create(owner=owner, name="Gemini")
    Project.objects.create(owner=other, name="Mercury")
    html = root_client.get(admin_url("accounts_user_change", owner.pk)).content.decode()
    panel = html.split('data-panel="projects-owned-2"')[1].split("</section>")[0]
    assert "<td>Apollo</td>" in panel and "<td>Gemini</td>" in panel and "Mercury" not in panel
