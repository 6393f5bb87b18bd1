"""Account takeover (issue 16, items 1-4), performed through the real routes: the API through the
URL router and JWT authentication, the admin through its real login and pages. docs/security.md
says what each control stops."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from core.testing import assert_api_error
from tests.console.conftest import admin_client, admin_url, staff
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
ME = "/api/v1/auth/me/"
CHANGE = "/api/v1/auth/password/change/"
RESET = "/api/v1/auth/password/reset/"
RESET_CONFIRM = "/api/v1/auth/password/reset/confirm/"
NEW_PASSWORD = "Zebra-Quartz-17-Lamp"


def api_login(email: str, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
    response = APIClient().post(LOGIN, {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
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
    assert_api_error(APIClient().post(REFRESH, {"refresh": pair["refresh"]}, format="json"), 401, "token_not_valid")


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
        APIClient().post(RESET, {"email": user.email}, format="json")
    token = token_in(last_mail_to(user.email))
    with django_capture_on_commit_callbacks(execute=True):
        response = APIClient().post(RESET_CONFIRM, {"token": token, "new_password": NEW_PASSWORD}, format="json")
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
