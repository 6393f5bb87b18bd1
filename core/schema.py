"""OpenAPI schema: every operation documents the shared error body for its error statuses, and
every string input documents what DRF refuses beyond type and length."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.mixins import UpdateModelMixin

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "code": serializers.CharField(help_text="Stable snake_case error code; branch on this."),
        "message": serializers.CharField(help_text="Human-readable text; may change."),
        "fields": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="Validation errors keyed by field name.",
        ),
    },
)


# What ``str.strip()`` — and so DRF's ``trim_whitespace`` — removes (the characters whose
# ``isspace()`` is true; tests/core/test_schema.py checks the list against this Python), spelled out
# because ``\s`` differs between Python (which includes U+001C..U+001F and U+0085) and ECMA regexes
# (which include U+FEFF), and a schema's patterns are read by both: clients, schemathesis' validator.
WHITESPACE_CLASS = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028-\u2029\u202f\u205f\u3000"
# DRF's CharField refuses NUL (``ProhibitNullCharactersValidator``) whatever the field.
NUL_FREE_PATTERN = r"^[^\u0000]*$"
# ... and, with ``allow_blank=False`` and trimming, a value that is nothing but whitespace.
NOT_BLANK_PATTERN = rf"^[^\u0000]*[^\u0000{WHITESPACE_CLASS}][^\u0000]*$"


def string_pattern(field: serializers.Field) -> str | None:
    """The ``pattern`` stating what a CharField refuses beyond its type and length, or None.

    Fields that already document a stricter shape (e-mail, URL, slug, regex, choices) need none.
    """
    if not isinstance(field, serializers.CharField) or isinstance(
        field,
        (
            serializers.EmailField,
            serializers.URLField,
            serializers.RegexField,
            serializers.SlugField,
            serializers.IPAddressField,
        ),
    ):
        return None
    if field.trim_whitespace and not field.allow_blank:
        return NOT_BLANK_PATTERN
    return NUL_FREE_PATTERN


def _add_string_pattern(field: serializers.Field, schema: dict[str, Any]) -> None:
    """Give a request field's plain string schema (and a list's or dict's string items) its pattern."""
    if isinstance(field, serializers.ListField) and isinstance(schema.get("items"), dict):
        _add_string_pattern(field.child, schema["items"])
    elif isinstance(field, serializers.DictField) and isinstance(schema.get("additionalProperties"), dict):
        _add_string_pattern(field.child, schema["additionalProperties"])
    elif schema.get("type") == "string" and not {"format", "pattern", "enum", "oneOf"} & schema.keys():
        pattern = string_pattern(field)
        if pattern:
            schema["pattern"] = pattern


class AutoSchema(SpectacularAutoSchema):
    """Adds 400/401/403/404/429/500/503 (and 402/409/502/504 where views declare them) with the Error body.

    Request bodies are documented as JSON only: the API is a JSON API (forms are still parsed, for
    the browsable API and old clients, but untyped, so they are not the contract). A view that sets
    its own ``parser_classes`` (a multipart upload) documents what it lists.

    String inputs (body fields and query parameters from serializers) carry ``string_pattern``: no
    NUL, and not only whitespace where DRF would trim the value to a refused blank.

    A PATCH body is documented as the view validates it. drf-spectacular assumes DRF's
    ``partial_update`` (every field optional), which is true of the generic views
    (``UpdateModelMixin``); our own ``patch()`` methods validate with the serializer as it is (no
    ``partial=True``), so there a field the serializer requires is required in the schema too.
    """

    def _map_basic_serializer(self, serializer: Any, direction: Any) -> Any:
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request":
            for name, field_schema in schema.get("properties", {}).items():
                field = serializer.fields.get(name)
                if field is not None:
                    _add_string_pattern(field, field_schema)
        return schema

    def _get_request_for_media_type(self, serializer: Any, direction: str = "request") -> Any:
        if self.method != "PATCH" or isinstance(self.view, UpdateModelMixin):
            return super()._get_request_for_media_type(serializer, direction)  # type: ignore[arg-type]
        self.method = "PUT"  # drf-spectacular marks the serializer partial for PATCH only
        try:
            return super()._get_request_for_media_type(serializer, direction)  # type: ignore[arg-type]
        finally:
            self.method = "PATCH"

    def map_parsers(self) -> list[Any]:
        from rest_framework.settings import api_settings

        if list(self.view.parser_classes) != list(api_settings.DEFAULT_PARSER_CLASSES):
            return list(super().map_parsers())
        return ["application/json"]

    def get_request_serializer(self) -> Any:
        if getattr(self, "_probing_delete_body", False):
            return None  # no guessing from serializer_class: only a declared request counts
        return super().get_request_serializer()

    def _get_request_body(self, direction: str = "request") -> Any:
        # drf-spectacular documents bodies only for POST/PUT/PATCH; a DELETE that declares its body
        # (``@extend_schema(request=...)``, e.g. a password confirming an account deletion) shows it.
        if self.method != "DELETE":
            return super()._get_request_body(direction)  # type: ignore[arg-type]
        self._probing_delete_body = True
        try:
            declared = self.get_request_serializer()
        finally:
            self._probing_delete_body = False
        if declared is None:
            return None
        self.method = "POST"
        try:
            return super()._get_request_body(direction)  # type: ignore[arg-type]
        finally:
            self.method = "DELETE"

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        error = OpenApiResponse(response=ErrorSerializer)
        wanted = {"400", "404", "429", "500", "503"}
        if self.view.get_permissions() and not getattr(self.view, "schema_public", False):
            wanted |= {"401", "403"}
        if self.view.get_authenticators():
            wanted.add("401")  # a public view that reads a token still refuses a bad one
        for status in sorted(wanted):
            if status not in responses:
                responses[status] = self._get_response_for_code(error, status)
        return responses


def error_responses(*statuses: int, descriptions: dict[int, str] | None = None) -> dict[int, OpenApiResponse]:
    """``{status: Error body}`` for the statuses a view raises beyond the defaults (402, 409, 502, 504):
    the one way views document their errors (400/401/403/404/429/503 are added by ``AutoSchema``)::

    @extend_schema(responses={201: FileSerializer, **error_responses(402, 409, 502)})

    ``descriptions`` names the codes behind a status where it helps (``{502: "payment_provider_error"}``).
    """
    descriptions = descriptions or {}
    return {
        status: OpenApiResponse(response=ErrorSerializer, description=descriptions.get(status, ""))
        for status in statuses
    }
