"""What every API view does with its input and its lists: ``validate`` and ``paginate``.

A view validates → calls one selector or service → serializes. ``validate`` runs a request
serializer and returns its data; a refusal is DRF's ``ValidationError``, which the exception handler
answers as 400 ``validation_error`` with the errors keyed by field (``core.exceptions``). ``paginate``
answers a list as ``core.pagination.LimitOffsetPagination``'s page: ``{count, next, previous,
results}``, ``?limit=`` (default 20, at most 100) and ``?offset=``. Error statuses beyond the
defaults are documented with ``core.schema.error_responses``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from .pagination import LimitOffsetPagination

# A selector that pages in SQL itself: (limit, offset) -> (total count, the page's rows).
Fetch = Callable[[int, int], tuple[int, Sequence[Any]]]


def validate(serializer_class: type[BaseSerializer], data: Any, *, on_invalid: Callable[[], Any] | None = None) -> Any:
    """``serializer_class(data=data)``'s validated data, or a 400 ``validation_error``.

    ``on_invalid`` runs before the 400 is raised: a check whose own error must win over the body's
    (another user's conversation is a 404 whatever the body says).
    """
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        if on_invalid is not None:
            on_invalid()
        serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def paginate(
    request: Request,
    source: QuerySet[Any] | Fetch,
    serialize: type[BaseSerializer] | Callable[[Sequence[Any]], Any],
) -> Response:
    """The page of ``source`` asked for by ``?limit=&offset=``.

    ``source`` is a queryset (counted, then sliced here) or a ``Fetch`` for a selector that pages
    itself; ``serialize`` is a serializer class (``many=True``) or a function of the page's rows.
    """
    paginator = LimitOffsetPagination()
    if isinstance(source, QuerySet):
        rows: Sequence[Any] = paginator.paginate_queryset(source, request) or []
    else:
        paginator.request = request
        paginator.limit, paginator.offset = paginator.get_limit(request), paginator.get_offset(request)
        paginator.count, rows = source(paginator.limit, paginator.offset)
    if isinstance(serialize, type) and issubclass(serialize, BaseSerializer):
        results = cast(Any, serialize)(rows, many=True).data
    else:
        results = cast(Callable[[Sequence[Any]], Any], serialize)(rows)
    return paginator.get_paginated_response(results)
