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
    """Adds 400/401/403/404/429 (and 402/409/5xx where views declare them) with the Error body."""

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
