"""Admin login: throttled per IP and per account; a TOTP second factor when ADMIN_REQUIRE_2FA is on."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.console.conftest import admin_url, staff
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def login(client: Client, email: str, password: str = DEFAULT_PASSWORD, **extra: str):
    return client.post(admin_url("login"), {"username": email, "password": password, **extra})


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


@pytest.fixture
def member(db):
    return staff(superuser=True, email="ops@stackpro.test")


def test_staff_logs_in_and_lands_on_the_dashboard(member) -> None:
    client = Client()
    response = login(client, member.email)
    assert response.status_code == 302
    assert b'id="console-dashboard"' in client.get(admin_url("index")).content


def test_login_is_throttled_per_account(member, settings) -> None:
    settings.ADMIN_LOGIN_THROTTLE_USER = "3/15m"
    for i in range(3):
        response = login(Client(REMOTE_ADDR=f"10.0.0.{i}"), member.email, "wrong-password")
        assert b"Please enter the correct email address" in response.content
    # the right password from a fresh IP is still refused: the account's budget is spent
    refused = login(Client(REMOTE_ADDR="10.0.1.1"), member.email)
    assert refused.status_code == 200 and b"Too many login attempts. Try again in" in refused.content
    # another account is not affected
    other = staff(superuser=True, email="other@stackpro.test")
    assert login(Client(REMOTE_ADDR="10.0.1.1"), other.email).status_code == 302


def test_login_is_throttled_per_ip(member, settings) -> None:
    settings.ADMIN_LOGIN_THROTTLE_IP = "2/10m"
    client = Client(REMOTE_ADDR="192.0.2.7")
    login(client, "a@example.com", "x")
    login(client, "b@example.com", "x")
    assert b"Too many login attempts" in login(client, member.email).content
    assert login(Client(REMOTE_ADDR="192.0.2.8"), member.email).status_code == 302


def test_non_staff_cannot_log_in(db) -> None:
    from tests.factories import UserFactory

    user = UserFactory()
    response = login(Client(), user.email)
    assert response.status_code == 200 and b"Please enter the correct email address" in response.content


def test_two_factor_required_when_enabled(member, settings) -> None:
    settings.ADMIN_REQUIRE_2FA = True
    device = TOTPDevice.objects.create(user=member, name="phone", confirmed=True)
    client = Client()
    page = client.get(admin_url("login"))
    assert b'name="otp_token"' in page.content
    assert b"<style" not in page.content and b" style=" not in page.content  # strict CSP: no inline styles
    no_code = login(client, member.email)
    assert no_code.status_code == 200 and b"password and authenticator code" in no_code.content
    wrong = login(client, member.email, otp_token="000000" if code_for(device) != "000000" else "111111")
    assert b"password and authenticator code" in wrong.content
    device.refresh_from_db()
    device.throttling_failure_count = 0  # django-otp backs off after a wrong code; reset for the next try
    device.throttling_failure_timestamp = None
    device.save()
    ok = login(client, member.email, otp_token=code_for(device))
    assert ok.status_code == 302
    assert client.get(admin_url("index")).status_code == 200


def test_staff_without_an_authenticator_cannot_log_in_when_2fa_is_on(member, settings) -> None:
    settings.ADMIN_REQUIRE_2FA = True
    response = login(Client(), member.email, otp_token="123456")
    assert response.status_code == 200 and b"Ask a superuser to set one up" in response.content


def test_a_password_only_session_is_not_enough_once_2fa_is_on(member, settings) -> None:
    client = Client()
    assert login(client, member.email).status_code == 302
    settings.ADMIN_REQUIRE_2FA = True
    response = client.get(admin_url("index"))
    assert response.status_code == 302 and admin_url("login") in response["Location"]


def test_2fa_is_on_in_production_settings() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; print(settings.ADMIN_REQUIRE_2FA)"],
        env={"DJANGO_SETTINGS_MODULE": "stackpro.settings.production", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "a.example", "PATH": "/usr/bin"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "True"


def test_totp_setup_command_prints_a_working_secret(member) -> None:
    import io

    out = io.StringIO()
    call_command("staff_totp_device", member.email, stdout=out)
    device = TOTPDevice.objects.get(user=member)
    assert device.confirmed and "otpauth://totp/" in out.getvalue()
    assert device.verify_token(code_for(device))
