"""OpenAPI schema and docs: generated without warnings; error bodies documented; access setting."""

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import client_for
from tests.factories import UserFactory
from tests.openapi import SchemaCheckedClient
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
    _refused(SchemaCheckedClient().get(url), "not_authenticated")
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
    _refused(SchemaCheckedClient().get(url), "not_authenticated")
    _refused(_admin_session(superuser).get(url), "permission_denied")
    _refused(client_for(superuser).get(url), "not_authenticated")


@covers_route("schema", "anonymous", methods=("get",))
@covers_route("docs", "anonymous", methods=("get",))
@pytest.mark.django_db
@pytest.mark.parametrize("url", DOCS)
def test_public_opens_to_anyone(settings, url):
    settings.API_DOCS_ACCESS = "public"
    assert SchemaCheckedClient().get(url).status_code == 200


# ------------------------------------------------------------------------------------------------
# The committed contract (openapi.yaml) and what it promises
# ------------------------------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[2]
# Output fields that may be left out of a response, each with why. Everything else is always sent.
OPTIONAL_OUTPUT_FIELDS = {("Error", "fields"): "only validation errors carry field messages"}
# Output objects whose keys are free-form on purpose.
FREE_FORM_OUTPUT_FIELDS = {
    ("Error", "fields"): "keyed by the request's field names",
    ("PresignedPost", "fields"): "S3's form fields (policy, signature, key...), posted back as they are",
}


def _generated_schema(tmp_path: Path) -> str:
    out = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(out), "--fail-on-warn", "--validate")
    return out.read_text()


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    return yaml.safe_load(_generated_schema(tmp_path_factory.mktemp("schema")))


def test_committed_schema_is_what_the_code_generates(tmp_path):
    """Every API change shows up in review as a diff of openapi.yaml (make schema regenerates it)."""
    committed = (ROOT / "openapi.yaml").read_text()
    generated = _generated_schema(tmp_path)
    assert committed == generated, "openapi.yaml is out of date: run `make schema` and commit it"


def test_every_response_field_is_required_unless_listed(schema):
    """A strict TypeScript client reads what the schema promises: nothing "possibly undefined"
    that the server always sends."""
    optional, free_form = [], []
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Request") or component.get("type") != "object":
            continue
        required = set(component.get("required", []))
        for prop, prop_schema in component.get("properties", {}).items():
            if prop not in required and (name, prop) not in OPTIONAL_OUTPUT_FIELDS:
                optional.append(f"{name}.{prop}")
            untyped = prop_schema.get("type") == "object" and "properties" not in prop_schema
            typed_values = isinstance(prop_schema.get("additionalProperties"), dict) and prop_schema[
                "additionalProperties"
            ].get("type")
            if untyped and not typed_values and (name, prop) not in FREE_FORM_OUTPUT_FIELDS:
                free_form.append(f"{name}.{prop}")
    assert optional == []
    assert free_form == []


def test_every_paginated_list_requires_next_and_previous(schema):
    pages = {name: c for name, c in schema["components"]["schemas"].items() if name.startswith("Paginated")}
    assert pages
    for name, page in pages.items():
        assert set(page["required"]) == {"count", "next", "previous", "results"}, name
        assert page["properties"]["next"]["nullable"] and page["properties"]["previous"]["nullable"], name


def test_every_operation_documents_its_errors_with_the_envelope(schema):
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            wanted = {"400", "404", "429", "500", "503"}
            security = operation.get("security", [])
            if {"jwtAuth": []} in security:  # a bad token is refused even where none is needed
                wanted.add("401")
            if security == [{"jwtAuth": []}]:
                wanted.add("403")
            assert wanted <= responses.keys(), f"{method} {path}: {sorted(wanted - responses.keys())}"
            for status, response in responses.items():
                if int(status) >= 400:
                    assert response["content"]["application/json"]["schema"] == error, f"{method} {path} {status}"


def test_download_documents_the_file_and_the_redirect(schema):
    responses = schema["paths"]["/api/v1/projects/{project_id}/files/{file_id}/download/"]["get"]["responses"]
    assert responses["200"]["content"]["*/*"]["schema"] == {"type": "string", "format": "binary"}
    assert responses["200"]["headers"]["Content-Disposition"]["required"] is True
    assert responses["302"]["headers"]["Location"]["required"] is True


def test_direct_upload_form_is_typed(schema):
    post = schema["components"]["schemas"]["PresignedPost"]
    assert set(post["required"]) == {"url", "fields"}
    assert post["properties"]["fields"]["additionalProperties"] == {"type": "string"}
