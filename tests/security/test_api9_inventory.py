"""API9 Improper inventory management: every route is known — in the OpenAPI schema and in the
permission matrix (test_route_matrix.py) — and only /api/v1/ serves the API."""

import re

from drf_spectacular.generators import SchemaGenerator

from tests.security.route_matrix import api_routes


def _schema_path(generator: SchemaGenerator, route) -> str:
    """The path the schema shows for a route: ``<type:name>`` → ``{name}``, then the generator's own
    renaming (drf-spectacular's SCHEMA_COERCE_PATH_PK: ``{pk}`` → ``{id}``, ``{x_pk}`` → ``{x_id}``)."""
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.pattern)
    return generator.coerce_path(path, "GET", route.view_class())


def test_every_api_route_is_in_the_openapi_schema():
    generator = SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    documented = set(schema["paths"])
    missing = [
        route.pattern
        for route in api_routes()
        if route.view_class is not None
        and hasattr(route.view_class, "schema")
        and _schema_path(generator, route) not in documented
    ]
    assert not missing, f"routes missing from the OpenAPI schema: {missing}"


def test_the_schema_path_check_follows_the_pk_renaming():
    # notifications' <uuid:pk> routes appear as {id} in the schema; a made-up route is still missing.
    generator = SchemaGenerator()
    documented = set(generator.get_schema(request=None, public=True)["paths"])
    by_name = {route.name: route for route in api_routes()}
    assert _schema_path(generator, by_name["notifications:read"]) == "/api/v1/notifications/{id}/read/"
    assert "/api/v1/notifications/{id}/read/" in documented
    real = by_name["notifications:read"]
    ghost = type(real)(name="ghost", pattern="api/v1/ghost/<uuid:pk>/", callback=real.callback)
    assert _schema_path(generator, ghost) not in documented


def test_every_api_route_is_versioned():
    unversioned = [route.pattern for route in api_routes() if not route.pattern.startswith("api/v1/")]
    assert not unversioned, f"API routes outside /api/v1/: {unversioned}"
