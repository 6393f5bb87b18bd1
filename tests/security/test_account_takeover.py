"""Account takeover (issue 16, items 1-4), performed through the real routes: the API through the
URL router and JWT authentication, the admin through its real login and pages. docs/security.md
says what each control stops."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
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
