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
