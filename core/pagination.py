"""Limit/offset pagination: default 20, at most 100; bad values are clamped, never a 500."""

from __future__ import annotations

from rest_framework import pagination
from rest_framework.request import Request

MAX_OFFSET = 10**9


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = 20
    max_limit = 100

    def get_limit(self, request: Request) -> int:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        try:
            value = int(raw)
        except (TypeError, ValueError):
            return self.default_limit
        if value <= 0:
            return self.default_limit
        return min(value, self.max_limit)

    def get_offset(self, request: Request) -> int:
        raw = request.query_params.get(self.offset_query_param)
        try:
            value = int(raw) if raw is not None else 0
        except (TypeError, ValueError):
            return 0
        return min(max(value, 0), MAX_OFFSET)

    def get_schema_operation_parameters(self, view: object) -> list[dict]:
        """Document what is accepted: any value, since a bad one falls back instead of failing.

        Declaring plain integers made every list "accept a schema-violating request" (``?offset=null``
        answers 200) in the schemathesis run.
        """
        lenient = {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]}
        return [
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": f"Page size, 1 to {self.max_limit} (default {self.default_limit}); "
                "any other value means the default.",
                "schema": lenient,
            },
            {
                "name": self.offset_query_param,
                "required": False,
                "in": "query",
                "description": "Index of the first result (default 0); any other value means 0.",
                "schema": lenient,
            },
        ]

    def get_paginated_response_schema(self, schema: dict) -> dict:
        """Every page carries all four keys; ``next`` and ``previous`` are null at the ends."""
        page = super().get_paginated_response_schema(schema)
        page["required"] = ["count", "next", "previous", "results"]
        return page
