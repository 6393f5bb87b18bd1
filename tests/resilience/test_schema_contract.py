"""What the fuzz run taught core: JSON types are checked, pagination documents what it accepts, and
the Idempotency-Key header is in the schema of authenticated POSTs."""

import pytest
from rest_framework import serializers

from core.serializers import StrictSerializer
from tests.support import assert_api_error


class Sample(StrictSerializer):
    name = serializers.CharField()
    count = serializers.IntegerField(required=False)
    ratio = serializers.FloatField(required=False)
    active = serializers.BooleanField(required=False)
    kind = serializers.ChoiceField(choices=["a", "b"], required=False)
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    note = serializers.CharField(required=False, allow_null=True)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": 0}, "name"),
        ({"name": "x", "count": "5"}, "count"),
        ({"name": "x", "count": True}, "count"),
        ({"name": "x", "ratio": "1.5"}, "ratio"),
        ({"name": "x", "active": "yes"}, "active"),
        ({"name": "x", "active": 1}, "active"),
        ({"name": "x", "kind": 1}, "kind"),
        ({"name": "x", "tags": "a,b"}, "tags"),
    ],
)
def test_json_values_of_the_wrong_type_are_rejected(data, field):
    serializer = Sample(data=data)
    assert not serializer.is_valid()
    assert field in serializer.errors


def test_right_types_and_nulls_pass():
    data = {"name": "x", "count": 5, "ratio": 1, "active": False, "kind": "a", "tags": ["t"], "note": None}
    serializer = Sample(data=data)
    assert serializer.is_valid(), serializer.errors


def test_form_data_is_left_to_drf():
    from django.http import QueryDict

    serializer = Sample(data=QueryDict("name=x&count=5&active=true"))
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["count"] == 5


@pytest.mark.urls("tests.fuzz.urls")
@pytest.mark.django_db
def test_a_strict_view_answers_the_usual_400(auth_client):
    response = auth_client.post("/api/v1/test-fuzz/notes/", {"category": "product", "title": 0}, format="json")
    body = assert_api_error(response, 400, "validation_error")
    assert body["fields"] == {"title": ["Must be a string."]}


@pytest.mark.urls("tests.fuzz.urls")
def test_schema_documents_lenient_pagination_and_the_idempotency_key():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    notes = schema["paths"]["/api/v1/test-fuzz/notes/"]
    limit = next(p for p in notes["get"]["parameters"] if p["name"] == "limit")
    assert {"type": "string"} in limit["schema"]["anyOf"]
    header = next(p for p in notes["post"]["parameters"] if p["name"] == "Idempotency-Key")
    assert header["in"] == "header" and header["required"] is False and header["schema"]["maxLength"] == 255
    assert "409" in notes["post"]["responses"]
    # Anonymous endpoints are not covered, so their schema does not offer the header.
    health = schema["paths"]["/api/v1/health/"]["get"]
    assert not any(p["name"] == "Idempotency-Key" for p in health.get("parameters", []))
