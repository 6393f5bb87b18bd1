"""OpenAPI schema and docs: generated without warnings; error bodies documented; access setting."""

import pytest
from django.core.management import call_command


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


@pytest.mark.django_db
@pytest.mark.parametrize(("access", "status"), [("staff", 401), ("off", 401)])
def test_docs_can_be_restricted(api_client, settings, access, status):
    settings.API_DOCS_ACCESS = access
    from importlib import reload

    import stackpro.urls

    try:
        reload(stackpro.urls)
        from django.urls import clear_url_caches

        clear_url_caches()
        response = api_client.get("/api/schema/")
        assert response.status_code in (401, 403)
        assert response.json()["code"] in ("not_authenticated", "permission_denied")
    finally:
        settings.API_DOCS_ACCESS = "public"
        reload(stackpro.urls)
        clear_url_caches()
