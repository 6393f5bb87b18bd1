"""Every API response a test receives is checked against the OpenAPI schema (Zulip's habit).

``SchemaCheckedClient`` is DRF's test client plus one step: each response under ``/api/v1/`` is
validated with openapi-core against the schema the code generates (the same one ``make schema``
writes to ``openapi.yaml``) — its status must be documented for the operation, its content type and
body must match. A response to a method or path the schema does not know must still be the JSON
error envelope with a 4xx status (OPTIONS excepted: CORS preflights and DRF's metadata). A mismatch fails the test that produced it, naming what broke.

Opt out only through ``UNCHECKED``: test node ids (or a prefix of one) with the reason, so every
exception is listed here and reviewed.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponse
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from rest_framework.test import APIClient
from werkzeug.datastructures import Headers, ImmutableMultiDict

# Tests whose responses are deliberately outside the contract: node id (prefix) -> why.
UNCHECKED: dict[str, str] = {}

CHECKED_PREFIX = "/api/v1/"
# The contract is the project's URLconf; views a test URLconf adds (tests/core/urls.py) are not in it.
PROJECT_URLCONF = "stackpro.urls"

# Set by the autouse fixture in tests/conftest.py: the node id of the running test.
current_test: dict[str, str] = {"nodeid": ""}


class _ResponseOnlyRequest(DjangoOpenAPIRequest):
    """The request as openapi-core finds the operation from it. Neither its body (a multipart
    upload's has already been read as a stream) nor its headers (a test may send a refused one)
    are validated: only the response is."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        match = request.resolver_match
        self.parameters = RequestParameters(
            path=(match.kwargs if match else {}) or {},
            query=ImmutableMultiDict(request.GET),
            header=Headers(),
            cookie=ImmutableMultiDict(),
        )

    @property
    def body(self) -> bytes:
        return b""


class SchemaMismatch(AssertionError):
    """A response the OpenAPI schema does not describe."""


@cache
def openapi() -> Any:
    """The schema as the code generates it (drf-spectacular), loaded once per test process."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    schema = SchemaGenerator(urlconf=PROJECT_URLCONF).get_schema(request=None, public=True)
    # Through JSON, as a client reads it: lazy strings and enums become plain values.
    spec = json.loads(OpenApiJsonRenderer().render(schema, renderer_context={}))
    return OpenAPI.from_dict(_nullable_refs_as_any_of(spec))


def _nullable_refs_as_any_of(node: Any) -> Any:
    """``{allOf: [{$ref}], nullable: true}`` (drf-spectacular's OAS 3.0 spelling of "this object or
    null") as ``{anyOf: [{$ref}, {nullable: true, enum: [null]}]}``: the same meaning, but
    openapi-schema-validator 0.8 checks ``nullable`` inside the referenced schema and refuses the
    null. Only the validator's copy is rewritten; openapi.yaml and the TypeScript types keep theirs."""
    if isinstance(node, list):
        return [_nullable_refs_as_any_of(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_refs_as_any_of(value) for key, value in node.items()}
    if node.get("nullable") is True and len(node.get("allOf", [])) == 1 and "$ref" in node["allOf"][0]:
        rest = {k: v for k, v in node.items() if k not in ("allOf", "nullable")}
        return {**rest, "anyOf": [node["allOf"][0], {"nullable": True, "enum": [None]}]}
    return node


def _unchecked() -> bool:
    nodeid = current_test["nodeid"]
    return any(nodeid == key or nodeid.startswith(key + "[") for key in UNCHECKED)


def _test_only_view(request: Any) -> bool:
    """The path leads to a view that only the test's URLconf has (not the project's). Resolved
    again rather than read from ``resolver_match``: a replayed answer (Idempotency-Key) comes from
    a middleware, before any URL is resolved."""
    from django.conf import settings
    from django.urls import Resolver404, resolve

    active = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
    if active == PROJECT_URLCONF:
        return False
    try:
        resolve(request.path_info, urlconf=active)
    except Resolver404:
        return False
    try:
        resolve(request.path_info, urlconf=PROJECT_URLCONF)
    except Resolver404:
        return True
    return False


def _is_error_envelope(response: HttpResponse) -> bool:
    if not response.get("Content-Type", "").startswith("application/json"):
        return False
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("code"), str) and isinstance(body.get("message"), str)


def check_response(response: HttpResponse) -> None:
    """Raise ``SchemaMismatch`` unless the schema describes ``response`` (to its request)."""
    request = response.wsgi_request  # type: ignore[attr-defined]
    if (
        not request.path.startswith(CHECKED_PREFIX)
        or request.method == "OPTIONS"  # CORS preflights and DRF's metadata: not operations of the API
        or _unchecked()
        or _test_only_view(request)
    ):
        return
    what = f"{request.method} {request.get_full_path()} -> {response.status_code}"
    try:
        openapi().validate_response(_ResponseOnlyRequest(request), DjangoOpenAPIResponse(response))
    except (PathNotFound, OperationNotFound):
        # Not an operation of the API: must be refused with the error envelope.
        if not (400 <= response.status_code < 500 and _is_error_envelope(response)):
            raise SchemaMismatch(f"{what}: not in the schema, and not a 4xx error envelope") from None
    except Exception as error:  # every openapi-core validation error
        cause = error.__cause__ or error
        details = "; ".join(str(e) for e in getattr(cause, "schema_errors", ()) or ()) or str(cause)
        body = response.content[:500] if not getattr(response, "streaming", False) else b"<stream>"
        raise SchemaMismatch(f"{what}: {error!r} {details}\nbody: {body!r}") from error


class SchemaCheckedClient(APIClient):
    """DRF's APIClient whose every ``/api/v1/`` response is checked against the schema."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        response = super().request(*args, **kwargs)
        check_response(response)
        return response
