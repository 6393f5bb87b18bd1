"""String inputs: the schema states what the serializers refuse, and lengths are those of the string as sent.

Found by the full fuzz run: a ``name`` of 150 letters after spaces passed ``maxLength: 150`` (DRF
trims before counting), a ``refresh`` holding NUL was refused without the schema saying so, and a
title of nothing but U+001C (whitespace to Python, not to ECMA's ``\\s``) matched the old ``\\S``
pattern yet was refused as blank. Every request serializer's CharField is checked here against its
schema, as schemathesis' validator (jsonschema_rs) and Python's ``re`` read it.
"""

from __future__ import annotations

import re
import sys

import jsonschema_rs
import pytest
from django.http import QueryDict
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from core.schema import NOT_BLANK_PATTERN, NUL_FREE_PATTERN, WHITESPACE_CLASS
from core.serializers import StrictSerializer

TRICKY = ["ok", "", " ", "  x  ", "\t\n", "\x1c", "\x85", "\u3000", "\ufeff", "\u200b", "a\x00b", "\x00", "x\n"]
FORMATTED = (serializers.EmailField, serializers.URLField, serializers.SlugField, serializers.RegexField)


def test_the_whitespace_class_is_what_str_strip_removes():
    stripped = {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}
    in_class = {c for c in map(chr, range(sys.maxunicode + 1)) if re.fullmatch(f"[{WHITESPACE_CLASS}]", c)}
    assert in_class == stripped


@pytest.mark.parametrize("value", TRICKY)
def test_python_and_the_schema_validator_read_the_patterns_alike(value):
    for pattern in (NUL_FREE_PATTERN, NOT_BLANK_PATTERN):
        validator = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
        assert validator.is_valid(value) == (re.search(pattern, value) is not None), (pattern, value)


def _request_serializers():
    """(component name, serializer) of every request body and query serializer in the API's schema."""
    generator = SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    found = []
    for component in generator.registry._components.values():
        if component.type == "schemas" and component.name.endswith("Request"):
            if isinstance(component.object, serializers.BaseSerializer):
                found.append((component.name, component.object))
    return schema, found


def _refused(serializer: serializers.Serializer, name: str, value: str) -> bool:
    fresh = type(serializer)(data={name: value})
    fresh.is_valid()
    return name in fresh.errors


def test_every_string_field_of_every_request_says_what_it_refuses():
    schema, found = _request_serializers()
    checked = 0
    for component_name, serializer in found:
        properties = schema["components"]["schemas"][component_name]["properties"]
        for name, field in serializer.fields.items():
            if field.read_only or not isinstance(field, serializers.CharField) or isinstance(field, FORMATTED):
                continue
            field_schema = properties[name]
            validator = jsonschema_rs.validator_for(field_schema)
            values = list(TRICKY)
            if field.max_length:
                n = field.max_length
                values += ["x" * n, " " + "x" * (n - 1), " " + "x" * n, "x" * (n + 1), "  " + "x" * (n - 1) + "\n"]
            for value in values:
                assert validator.is_valid(value) != _refused(serializer, name, value), (
                    f"{component_name}.{name} = {value[:20]!r}…: schema {field_schema}"
                )
            checked += 1
    # register, me, login, refresh, password change/reset, tokens, projects, transfer, invitations,
    # uploads, conversations, messages (at least)
    assert checked >= 15, checked


def test_query_parameters_from_serializers_carry_the_pattern_too():
    schema, _ = _request_serializers()
    parameters = schema["paths"]["/api/v1/projects/"]["get"]["parameters"]
    q = next(p for p in parameters if p["name"] == "q")
    assert q["schema"]["pattern"] == NUL_FREE_PATTERN and q["schema"]["maxLength"] == 200


class Sample(StrictSerializer):
    name = serializers.CharField(max_length=5)
    code = serializers.CharField(max_length=5, trim_whitespace=False, required=False)
    kind = serializers.ChoiceField(choices=["a", "b"], required=False)


@pytest.mark.parametrize(
    ("value", "valid"),
    [("abcde", True), (" abcd", True), ("abcd ", True), (" abcde", False), ("abcde\n", False), ("  ab  ", False)],
)
def test_max_length_counts_the_string_as_sent_and_the_stored_value_is_trimmed(value, valid):
    serializer = Sample(data={"name": value})
    assert serializer.is_valid() == valid, serializer.errors
    if valid:
        assert serializer.validated_data["name"] == value.strip()
    else:
        assert serializer.errors["name"] == ["Ensure this field has no more than 5 characters."]


def test_max_length_as_sent_in_query_strings_too():
    assert not Sample(data=QueryDict("name=%20abcde")).is_valid()
    assert Sample(data=QueryDict("name=%20abcd")).is_valid()


def test_an_empty_typed_query_value_is_refused_with_what_to_do_instead():
    serializer = Sample(data=QueryDict("name=x&kind="))
    assert not serializer.is_valid()
    assert serializer.errors["kind"] == ["May not be empty: leave the parameter out instead."]


def test_patch_bodies_are_documented_as_the_views_validate_them():
    """drf-spectacular would mark every field optional for PATCH; our views validate the body as is."""
    schema, _ = _request_serializers()
    components = schema["components"]["schemas"]
    assert not [name for name in components if name.startswith("Patched")]
    assert components["MemberUpdateRequest"]["required"] == ["role"]
    rename = schema["paths"]["/api/v1/assistant/conversations/{conversation_id}/"]["patch"]["requestBody"]
    assert rename["required"] is True
    assert rename["content"]["application/json"]["schema"]["$ref"].endswith("/ConversationRenameRequest")
    assert components["ConversationRenameRequest"]["required"] == ["title"]


@pytest.mark.urls("tests.fuzz.urls")
def test_a_generic_views_patch_stays_partial():
    """DRF's UpdateModelMixin validates PATCH with partial=True: there every field is optional."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    body = schema["paths"]["/api/v1/test-fuzz/notes/{id}/"]["patch"]["requestBody"]
    assert "required" not in body
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/PatchedNoteRequest")
