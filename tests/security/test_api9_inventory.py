"""API9 Improper inventory management: every route is known — in the OpenAPI schema and in the
permission matrix (test_route_matrix.py) — and only /api/v1/ serves the API."""

import re

from drf_spectacular.generators import SchemaGenerator

from tests.security.route_matrix import walk_routes


def _schema_path(pattern: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)


def test_every_api_route_is_in_the_openapi_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = set(schema["paths"])
    missing = [
        route.pattern
        for route in walk_routes()
        if route.view_class is not None
        and hasattr(route.view_class, "schema")
        and _schema_path(route.pattern) not in documented
    ]
    assert not missing, f"routes missing from the OpenAPI schema: {missing}"


def test_every_api_route_is_versioned():
    unversioned = [route.pattern for route in walk_routes() if not route.pattern.startswith("api/v1/")]
    assert not unversioned, f"API routes outside /api/v1/: {unversioned}"
