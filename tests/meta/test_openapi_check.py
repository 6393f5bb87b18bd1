"""The response check of tests/openapi.py fails on what the schema does not describe."""

import pytest
from django.http import HttpResponse, JsonResponse

from tests.openapi import SchemaCheckedClient, SchemaMismatch, check_response


def _as_answer_to(request_response, response):
    response.wsgi_request = request_response.wsgi_request
    return response


@pytest.fixture
def health_request(db):
    return SchemaCheckedClient().get("/api/v1/health/")  # checked, and passes


@pytest.mark.parametrize(
    "response",
    [
        JsonResponse({"status": 5}),  # a field of the wrong type
        JsonResponse({}),  # a required field missing
        JsonResponse({"code": "teapot", "message": "no"}, status=418),  # an undocumented status
        HttpResponse("<h1>ok</h1>", content_type="text/html"),  # an undocumented content type
    ],
)
def test_what_the_schema_does_not_describe_fails(health_request, response):
    with pytest.raises(SchemaMismatch):
        check_response(_as_answer_to(health_request, response))


@pytest.mark.django_db
def test_outside_the_schema_only_the_error_envelope_passes():
    unknown = SchemaCheckedClient().get("/api/v1/no-such-thing/")  # checked: a JSON 404 passes
    assert unknown.status_code == 404
    with pytest.raises(SchemaMismatch):
        check_response(_as_answer_to(unknown, HttpResponse("Not Found", status=404, content_type="text/html")))
    with pytest.raises(SchemaMismatch):
        check_response(_as_answer_to(unknown, JsonResponse({"code": "x", "message": "y"}, status=200)))
