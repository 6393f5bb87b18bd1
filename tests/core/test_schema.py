"""OpenAPI schema and docs: generated without warnings; error bodies documented; access setting."""

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tests.conftest import client_for
from tests.factories import UserFactory
from tests.security.route_matrix import covers_route


@pytest.mark.django_db
def test_schema_is_served_and_documents_the_error_body(api_client):
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "Error" in schema["components"]["schemas"]
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"code", "message"}


@pytest.mark.django_db
def test_swagger_ui_is_served_without_a_cdn(api_client):
    response = api_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


def test_schema_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out), "--fail-on-warn", "--validate")
    assert out.read_text().startswith("openapi: 3")


DOCS = ("/api/schema/", "/api/docs/")


def _admin_session(user, *, otp_device=None) -> Client:
    """A browser signed in to the admin (``force_login``; with a device, as the TOTP login leaves it)."""
    client = Client()
    client.force_login(user)
    if otp_device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = otp_device.persistent_id
        session.save()
    return client


def _refused(response, code: str) -> None:
    # Session authentication sends no WWW-Authenticate challenge, so DRF answers 403 for both codes.
    assert response.status_code == 403, response.content[:300]
    assert response.json()["code"] == code
    assert "openapi" not in response.content.decode() and "swagger" not in response.content.decode().lower()


@covers_route("schema", "anonymous", "lower_role", methods=("get",))
@covers_route("docs", "anonymous", "lower_role", methods=("get",))
@pytest.mark.django_db
@pytest.mark.parametrize("url", DOCS)
def test_staff_access_opens_to_an_admin_session_only(settings, url):
    """``staff``: anonymous, a signed-in non-staff user and a staff member's API token are refused; the
    admin's own session gets in (with ADMIN_REQUIRE_2FA, only once it passed the TOTP login)."""
    settings.API_DOCS_ACCESS = "staff"
    member = UserFactory(is_staff=True)
    _refused(APIClient().get(url), "not_authenticated")
    _refused(_admin_session(UserFactory()).get(url), "permission_denied")
    _refused(client_for(member).get(url), "not_authenticated")  # a JWT opens nothing staff-only
    assert _admin_session(member).get(url).status_code == 200

    settings.ADMIN_REQUIRE_2FA = True
    _refused(_admin_session(member).get(url), "permission_denied")
    device = TOTPDevice.objects.create(user=member, name="phone", confirmed=True)
    assert _admin_session(member, otp_device=device).get(url).status_code == 200


@covers_route("schema", "anonymous", "lower_role", methods=("get",))
@covers_route("docs", "anonymous", "lower_role", methods=("get",))
@pytest.mark.django_db
@pytest.mark.parametrize("url", DOCS)
def test_off_refuses_everyone_staff_included(settings, url):
    settings.API_DOCS_ACCESS = "off"
    superuser = UserFactory(is_staff=True, is_superuser=True)
    _refused(APIClient().get(url), "not_authenticated")
    _refused(_admin_session(superuser).get(url), "permission_denied")
    _refused(client_for(superuser).get(url), "not_authenticated")


@covers_route("schema", "anonymous", methods=("get",))
@covers_route("docs", "anonymous", methods=("get",))
@pytest.mark.django_db
@pytest.mark.parametrize("url", DOCS)
def test_public_opens_to_anyone(settings, url):
    settings.API_DOCS_ACCESS = "public"
    assert APIClient().get(url).status_code == 200
