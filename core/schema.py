"""OpenAPI schema: every operation documents the shared error body for its error statuses."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

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


class AutoSchema(SpectacularAutoSchema):
    """Adds 400/401/403/404/429 (and 402/409/5xx where views declare them) with the Error body.

    Request bodies are documented as JSON only: the API is a JSON API (forms are still parsed, for
    the browsable API and old clients, but untyped, so they are not the contract). A view that sets
    its own ``parser_classes`` (a multipart upload) documents what it lists.
    """

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
        wanted = {"400", "404", "429", "503"}
        if self.view.get_permissions() and not getattr(self.view, "schema_public", False):
            wanted |= {"401", "403"}
        for status in sorted(wanted):
            if status not in responses:
                responses[status] = self._get_response_for_code(error, status)
        return responses


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """``{status: Error body}`` for the statuses a view raises beyond the defaults (402, 409, 502, 504)::

    @extend_schema(responses={201: FileSerializer, **error_responses(402, 409, 502)})
    """
    return {status: OpenApiResponse(response=ErrorSerializer) for status in statuses}
