"""Account takeover (issue 16, items 1-4), performed through the real routes: the API through the
URL router and JWT authentication, the admin through its real login and pages. docs/security.md
says what each control stops."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.console.conftest import admin_client, admin_url, staff
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.openapi import SchemaCheckedClient
from tests.security.route_matrix import covers_route
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
ME = "/api/v1/auth/me/"
CHANGE = "/api/v1/auth/password/change/"
RESET = "/api/v1/auth/password/reset/"
RESET_CONFIRM = "/api/v1/auth/password/reset/confirm/"
NEW_PASSWORD = "Zebra-Quartz-17-Lamp"


def api_login(email: str, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
    response = SchemaCheckedClient().post(LOGIN, {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def bearer(access: str) -> SchemaCheckedClient:
    client = SchemaCheckedClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def admin_login(client: Client, email: str, password: str = DEFAULT_PASSWORD, **extra: str) -> Any:
    return client.post(admin_url("login"), {"username": email, "password": password, **extra})


# ------------------------------------------------------------------------------------------------
# 4. Staff tokens skip the second factor
# ------------------------------------------------------------------------------------------------
def test_a_staff_jwt_does_not_open_the_staff_only_api_docs(settings):
    settings.API_DOCS_ACCESS = "staff"
    settings.ADMIN_REQUIRE_2FA = True
    member = staff(superuser=True, email="root@stackpro.test")
    pair = api_login(member.email)  # password alone: no second factor
    assert_api_error(bearer(pair["access"]).get("/api/schema/"), 403, "not_authenticated")
    assert bearer(pair["access"]).get("/api/docs/").status_code == 403


def test_the_staff_only_api_docs_need_the_admin_session_that_passed_the_second_factor(settings):
    settings.API_DOCS_ACCESS = "staff"
    settings.ADMIN_REQUIRE_2FA = True
    member = staff(superuser=True, email="root@stackpro.test")
    device = TOTPDevice.objects.create(user=member, name="phone", confirmed=True)
    password_only = admin_client(member)  # a session that never entered a code
    assert password_only.get("/api/schema/").status_code == 403
    client = Client()
    assert admin_login(client, member.email, otp_token=code_for(device)).status_code == 302
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
    assert bearer(api_login(UserFactory().email)["access"]).get("/api/schema/").status_code == 403


# ------------------------------------------------------------------------------------------------
# 3. Tokens outlive a password change
# ------------------------------------------------------------------------------------------------
def _stolen(user: Any) -> dict[str, str]:
    """A session the attacker holds: a working access token and its refresh token."""
    pair = api_login(user.email)
    assert bearer(pair["access"]).get(ME).status_code == 200
    return pair


def _assert_dead(pair: dict[str, str]) -> None:
    assert bearer(pair["access"]).get(ME).status_code == 401
    assert_api_error(
        SchemaCheckedClient().post(REFRESH, {"refresh": pair["refresh"]}, format="json"), 401, "token_not_valid"
    )


def test_a_password_change_through_the_api_ends_stolen_access_tokens_at_once(django_capture_on_commit_callbacks):
    user = UserFactory()
    stolen = _stolen(user)
    owner = api_login(user.email)
    with django_capture_on_commit_callbacks(execute=True):
        response = bearer(owner["access"]).post(
            CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}, format="json"
        )
    assert response.status_code == 204
    _assert_dead(stolen)
    assert bearer(api_login(user.email, NEW_PASSWORD)["access"]).get(ME).status_code == 200


def test_a_password_reset_ends_stolen_access_tokens_at_once(django_capture_on_commit_callbacks):
    from tests.accounts.conftest import last_mail_to, token_in

    user = UserFactory()
    stolen = _stolen(user)
    with django_capture_on_commit_callbacks(execute=True):
        SchemaCheckedClient().post(RESET, {"email": user.email}, format="json")
    token = token_in(last_mail_to(user.email))
    with django_capture_on_commit_callbacks(execute=True):
        response = SchemaCheckedClient().post(
            RESET_CONFIRM, {"token": token, "new_password": NEW_PASSWORD}, format="json"
        )
    assert response.status_code == 204
    _assert_dead(stolen)


def test_the_admin_change_password_form_ends_every_session():
    user = UserFactory()
    stolen = _stolen(user)
    root = admin_client(staff(superuser=True, email="root@stackpro.test"))
    url = admin_url("auth_user_password_change", user.pk)
    response = root.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 302, response.content[:2000]
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    _assert_dead(stolen)


def test_the_changepassword_command_ends_every_session(monkeypatch):
    user = UserFactory()
    stolen = _stolen(user)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)  # the command's prompt
    call_command("changepassword", user.email, stdout=io.StringIO())
    _assert_dead(stolen)


def test_staff_revoke_sessions_ends_access_tokens_at_once():
    user = UserFactory()
    stolen = _stolen(user)
    support = admin_client(staff(groups=("support",), email="support@stackpro.test"))
    url = reverse("admin:accounts_user_console_action", args=[user.pk, "revoke_sessions"])
    assert support.post(url).status_code == 302
    _assert_dead(stolen)
    assert bearer(api_login(user.email)["access"]).get(ME).status_code == 200  # a new login works


def test_deactivation_then_reactivation_does_not_bring_old_access_tokens_back():
    user = UserFactory()
    stolen = _stolen(user)
    root = admin_client(staff(superuser=True, email="root@stackpro.test"))
    for action in ("deactivate", "reactivate"):
        url = reverse("admin:accounts_user_console_action", args=[user.pk, action])
        assert root.post(url).status_code == 302
    _assert_dead(stolen)


# ------------------------------------------------------------------------------------------------
# 1. Support staff read secrets
# ------------------------------------------------------------------------------------------------
def test_support_cannot_read_a_totp_secret():
    root = staff(superuser=True, email="root@stackpro.test")
    device = TOTPDevice.objects.create(user=root, name="phone", confirmed=True)
    support = admin_client(staff(groups=("support",), email="support@stackpro.test"))
    pages = [
        admin_url("otp_totp_totpdevice_changelist"),
        admin_url("otp_totp_totpdevice_change", device.pk),
        admin_url("otp_totp_totpdevice_config", device.pk),
        admin_url("otp_totp_totpdevice_qrcode", device.pk),
    ]
    for url in pages:
        response = support.get(url)
        assert response.status_code == 403, (url, response.status_code)  # no view permission on devices
        assert device.key.encode() not in response.content
    # the changelist's filter is no oracle either: ?key__startswith= would spell the key out
    oracle = support.get(admin_url("otp_totp_totpdevice_changelist"), {"key__startswith": device.key[:1]})
    assert oracle.status_code == 403 and str(root.pk).encode() not in oracle.content


def test_the_outbox_never_shows_a_live_reset_link_yet_the_sent_mail_works(django_capture_on_commit_callbacks):
    from notifications.models import EmailDelivery
    from tests.accounts.conftest import last_mail_to, token_in

    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        SchemaCheckedClient().post(RESET, {"email": user.email}, format="json")
    token = token_in(last_mail_to(user.email))
    delivery = EmailDelivery.objects.get(to_email=user.email, template="accounts_password_reset")
    assert token not in delivery.text_body and token not in delivery.html_body
    support = admin_client(staff(groups=("support",), email="support@stackpro.test"))
    page = support.get(admin_url("notifications_emaildelivery_change", delivery.pk))
    assert page.status_code == 200 and b"redacted" in page.content
    assert token.encode() not in page.content and token[:20].encode() not in page.content
    for lookup in ("secrets__icontains", "text_body__icontains"):  # no filter spells the token out
        oracle = support.get(admin_url("notifications_emaildelivery_changelist"), {lookup: token[:8]})
        # Django refuses a lookup the admin does not list (DisallowedModelAdminLookup): 400, no rows
        assert oracle.status_code == 400 and user.email.encode() not in oracle.content, lookup
    # the link that was sent works
    with django_capture_on_commit_callbacks(execute=True):
        done = SchemaCheckedClient().post(RESET_CONFIRM, {"token": token, "new_password": NEW_PASSWORD}, format="json")
    assert done.status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_retried_delivery_still_sends_a_working_link(settings, django_capture_on_commit_callbacks):
    from notifications.models import EmailDelivery
    from tests.accounts.conftest import last_mail_to, token_in
    from tests.notifications.backends import FlakyBackend

    settings.EMAIL_BACKEND = "tests.notifications.backends.FlakyBackend"
    settings.CELERY_TASK_EAGER_PROPAGATES = False
    FlakyBackend.failures_left = 100  # the provider is down for every automatic retry
    user = UserFactory()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            SchemaCheckedClient().post(RESET, {"email": user.email}, format="json")
    finally:
        FlakyBackend.failures_left = 0
    delivery = EmailDelivery.objects.get(to_email=user.email, template="accounts_password_reset")
    assert delivery.status == "failed" and not mail.outbox
    root = admin_client(staff(superuser=True, email="root@stackpro.test"))
    root.post(
        admin_url("notifications_emaildelivery_changelist"),
        {"action": "retry_sending", "_selected_action": [str(delivery.pk)]},
    )
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.secrets == {}  # nothing live is kept once sent
    token = token_in(last_mail_to(user.email))
    done = SchemaCheckedClient().post(RESET_CONFIRM, {"token": token, "new_password": NEW_PASSWORD}, format="json")
    assert done.status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


@pytest.mark.parametrize("role", ["superuser", "support"])
def test_a_staff_password_cannot_be_reset_through_the_public_endpoint(role, django_capture_on_commit_callbacks):
    member = staff(superuser=role == "superuser", groups=() if role == "superuser" else ("support",))
    with django_capture_on_commit_callbacks(execute=True):
        known = SchemaCheckedClient().post(RESET, {"email": member.email}, format="json")
        unknown = SchemaCheckedClient().post(RESET, {"email": "nobody@example.com"}, format="json")
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert not mail.outbox
    # a link made before the account became staff is refused too
    from accounts import tokens

    link_token = tokens.make(member, tokens.PASSWORD_RESET)
    response = SchemaCheckedClient().post(
        RESET_CONFIRM, {"token": link_token, "new_password": NEW_PASSWORD}, format="json"
    )
    assert_api_error(response, 400, "token_invalid")


def _page(response: Any) -> bytes:
    assert response.status_code == 200
    page = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", response.content)
    return re.sub(rb'(name="otp_token"[^>]*?) value="[^"]*"', rb"\1", page)  # the code typed, echoed


def test_the_admin_login_does_not_confirm_a_staff_password(settings):
    settings.ADMIN_REQUIRE_2FA = True
    member = staff(superuser=True, email="root@stackpro.test")
    device = TOTPDevice.objects.create(user=member, name="phone", confirmed=True)
    wrong_code = "000000" if code_for(device) != "000000" else "111111"
    wrong_password = _page(admin_login(Client(), member.email, "not-the-password", otp_token=wrong_code))
    no_code = _page(admin_login(Client(), member.email))
    bad_code = _page(admin_login(Client(), member.email, otp_token=wrong_code))
    assert wrong_password == no_code == bad_code
    assert DEFAULT_PASSWORD.encode() not in bad_code  # the password is not echoed back


def test_support_cannot_read_password_hashes_through_a_changelist_filter():
    victim = staff(superuser=True, email="root@stackpro.test")
    support = admin_client(staff(groups=("support",), email="support@stackpro.test"))
    url = admin_url("accounts_user_changelist")
    prefix = victim.password[:12]
    response = support.get(url, {"password__startswith": prefix, "is_superuser__exact": "1"})
    assert response.status_code == 400 and victim.email.encode() not in response.content


# ------------------------------------------------------------------------------------------------
# 2. A stolen access token becomes the account
# ------------------------------------------------------------------------------------------------
VERIFY = "/api/v1/auth/verify-email/"
REVERT = "/api/v1/auth/email/revert/"


def test_a_stolen_access_token_cannot_change_the_email(django_capture_on_commit_callbacks):
    user = UserFactory()
    thief = bearer(_stolen(user)["access"])
    with django_capture_on_commit_callbacks(execute=True):
        response = thief.patch(ME, {"email": "thief@evil.test"}, format="json")
        assert_api_error(response, 400, "validation_error")
        wrong = thief.patch(ME, {"email": "thief@evil.test", "password": "a-guess-1234"}, format="json")
        assert_api_error(wrong, 400, "wrong_password")
    user.refresh_from_db()
    assert user.pending_email == "" and not [m for m in mail.outbox if "thief@evil.test" in m.to]


def test_email_change_password_checks_are_throttled(settings):
    settings.THROTTLE_PASSWORD_CHECK = "2/5m"
    thief = bearer(_stolen(UserFactory())["access"])
    for _ in range(2):
        thief.patch(ME, {"email": "thief@evil.test", "password": "a-guess-1234"}, format="json")
    assert_api_error(thief.patch(ME, {"email": "thief@evil.test", "password": "x"}, format="json"), 429, "throttled")


@covers_route("accounts:email-revert", "anonymous", methods=("post",))
def test_the_old_address_can_undo_an_email_change_and_end_every_session(django_capture_on_commit_callbacks):
    from tests.accounts.conftest import last_mail_to, token_in

    user = UserFactory()
    old = user.email
    stolen = _stolen(user)  # the thief knows the password too
    with django_capture_on_commit_callbacks(execute=True):
        response = bearer(stolen["access"]).patch(
            ME, {"email": "thief@evil.test", "password": DEFAULT_PASSWORD}, format="json"
        )
    assert response.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            SchemaCheckedClient().post(VERIFY, {"token": token_in(last_mail_to("thief@evil.test"))}).status_code == 200
        )
    user.refresh_from_db()
    assert user.email == "thief@evil.test"
    notice = last_mail_to(old)
    assert "thief@evil.test" in notice.body
    revert_token = token_in(notice)
    with django_capture_on_commit_callbacks(execute=True):
        reverted = SchemaCheckedClient().post(REVERT, {"token": revert_token}, format="json")
    assert reverted.status_code == 200 and reverted.json()["email"] == old
    user.refresh_from_db()
    assert (user.email, user.pending_email, user.email_verified) == (old, "", True)
    assert not user.has_usable_password()  # the thief knew it: a new one is chosen by reset
    _assert_dead(stolen)
    assert_api_error(
        SchemaCheckedClient().post(LOGIN, {"email": "thief@evil.test", "password": DEFAULT_PASSWORD}),
        401,
        "invalid_credentials",
    )
    # a reset link went to the restored address, and it works
    with django_capture_on_commit_callbacks(execute=True):
        done = SchemaCheckedClient().post(
            RESET_CONFIRM, {"token": token_in(last_mail_to(old)), "new_password": NEW_PASSWORD}
        )
    assert done.status_code == 204
    # single use; a forged or missing token is refused with a stable code
    assert_api_error(SchemaCheckedClient().post(REVERT, {"token": revert_token}, format="json"), 400, "token_invalid")
    assert_api_error(SchemaCheckedClient().post(REVERT, {"token": revert_token[:-3] + "abc"}), 400, "token_invalid")
    assert_api_error(SchemaCheckedClient().post(REVERT, {}), 400, "validation_error")


def test_no_staff_page_shows_a_live_invitation_token_yet_the_invitee_joins_in_app(
    django_capture_on_commit_callbacks,
):
    """The in-app notice of an invitation once carried the accept link with its token: support read it
    on the notification's admin page. The notice now names the invitation, which only the invited,
    verified address can accept; the token lives in the mail alone."""
    from notifications.models import Notification
    from tests.accounts.conftest import last_mail_to, token_in

    owner = UserFactory(email_verified=True)
    invitee = UserFactory(email_verified=True, email="invitee@example.com")
    project = bearer(api_login(owner.email)["access"]).post("/api/v1/projects/", {"name": "Apollo"}, format="json")
    assert project.status_code == 201, project.json()
    with django_capture_on_commit_callbacks(execute=True):
        invited = bearer(api_login(owner.email)["access"]).post(
            f"/api/v1/projects/{project.json()['id']}/members/",
            {"email": invitee.email, "role": "editor"},
            format="json",
        )
    assert invited.status_code == 201, invited.json()
    token = token_in(last_mail_to(invitee.email))
    notice = Notification.objects.get(user=invitee, category="project")
    support = admin_client(staff(groups=("support",), email="support@stackpro.test"))
    pages = [
        admin_url("notifications_notification_changelist"),
        admin_url("notifications_notification_change", notice.pk),
        admin_url("notifications_emaildelivery_changelist"),
    ]
    for url in pages:
        page = support.get(url)
        assert page.status_code == 200, (url, page.status_code)  # support reads these pages: without the token
        assert token.encode() not in page.content, url
    assert token not in (notice.link or "") and token not in str(notice.data)
    # the invitee accepts from the notice (its invitation id), with no token
    accepted = bearer(api_login(invitee.email)["access"]).post(
        "/api/v1/invitations/accept/", {"invitation_id": notice.data["invitation_id"]}, format="json"
    )
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["id"] == project.json()["id"]
