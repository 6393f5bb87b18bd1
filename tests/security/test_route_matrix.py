"""Every route and method has a permission test for anonymous, another tenant and a lower role
(OWASP API9/API1/API5).

See tests/security/route_matrix.py for how an app declares its coverage.
"""

import importlib

import pytest

from tests.security import route_matrix
from tests.security.route_matrix import (
    CASES,
    EXEMPT,
    HTTP_METHODS,
    NOT_APPLICABLE,
    PUBLIC,
    covers_route,
    missing_cases,
    stale_declarations,
    walk_routes,
)


@pytest.fixture(scope="module")
def routes():
    route_matrix.import_all_test_modules()
    return list(walk_routes())


def test_the_walk_finds_every_route_including_admin_docs_and_webhooks(routes):
    patterns = {route.pattern for route in routes}
    assert {"api/v1/health/", "api/schema/", "api/docs/", "anymail/amazon_ses/tracking/"} <= patterns
    assert any(p.startswith("stripe/webhook/") for p in patterns)
    assert any(route.is_admin and route.name == "admin:accounts_user_changelist" for route in routes)


def test_methods_come_from_the_views(routes):
    by_name = {route.name: route for route in routes}
    assert by_name["projects:detail"].methods() == ["get", "patch", "delete"]
    assert by_name["health"].methods() == ["get"]
    assert by_name["djstripe:djstripe_webhook_by_uuid"].methods() == ["post"]
    assert by_name["admin:accounts_user_change"].methods() == list(HTTP_METHODS)  # a plain function view


def test_every_route_outside_the_admin_is_named(routes):
    unnamed = [route.pattern for route in routes if not route.name and not route.is_admin]
    assert not unnamed, f"name these routes ('<app>:<action>') so their permissions can be declared: {unnamed}"


def test_every_route_and_method_has_a_permission_test_for_each_case(routes):
    missing = missing_cases(routes)
    lines = [f"  {key}: {', '.join(gaps)}" for key, gaps in sorted(missing.items())]
    assert not missing, (
        "routes without a permission test (decorate the test with "
        "@covers_route(name, case, methods=...), or give a reason in tests/security/route_matrix.py):\n"
        + "\n".join(lines)
    )


def test_declarations_name_existing_routes_methods_and_tests(routes):
    stale = stale_declarations(routes)
    assert not stale, "@covers_route declarations for routes or methods that do not exist:\n" + "\n".join(stale)
    by_key = {route.key: route for route in routes}
    keys = set(by_key)
    stale_exemptions = sorted((set(PUBLIC) | set(NOT_APPLICABLE) | set(EXEMPT)) - keys)
    assert not stale_exemptions, (
        f"PUBLIC/NOT_APPLICABLE/EXEMPT entries for routes that do not exist: {stale_exemptions}"
    )
    for name, cases in NOT_APPLICABLE.items():
        assert all(reason.strip() for reason in cases.values()), (name, cases)
        for exempt in cases:
            case, _, method = exempt.partition(":")
            assert case in CASES and (not method or method in by_key[name].methods()), (name, exempt)
    assert all(reason.strip() for reason in EXEMPT.values())
    for cases in route_matrix.coverage().values():
        for by_method in cases.values():
            for test_ids in by_method.values():
                for test_id in test_ids:
                    module, _, qualname = test_id.partition("::")
                    obj = importlib.import_module(module)
                    for part in qualname.split("."):
                        obj = getattr(obj, part)
                    assert callable(obj), test_id


def test_routes_open_to_anonymous_callers_are_declared_public(routes):
    drf_routes = {route.key: route.allows_anonymous() for route in routes if route.allows_anonymous() is not None}
    open_routes = {key for key, is_open in drf_routes.items() if is_open}
    undeclared = sorted(open_routes - set(PUBLIC))
    assert not undeclared, f"these views allow anonymous callers but are not in PUBLIC: {undeclared}"
    closed = sorted(set(PUBLIC) & (set(drf_routes) - open_routes))
    assert not closed, f"PUBLIC lists routes whose views require authentication: {closed}"


def test_the_checker_reports_each_method_without_tests():
    class DemoView:
        http_method_names = ["get", "patch", "delete", "options"]

        def get(self): ...
        def patch(self): ...
        def delete(self): ...

    def view():
        pass

    view.view_class = DemoView
    fake = route_matrix.Route(name="demo:detail", pattern="api/v1/demo/<uuid:id>/", callback=view)
    assert missing_cases([fake]) == {"demo:detail": [f"{c}:{m}" for c in CASES for m in ("get", "patch", "delete")]}

    @covers_route("demo:detail", "anonymous", "other_tenant", methods=("get", "patch", "delete"))
    @covers_route("demo:detail", "lower_role", methods=("patch",))
    def test_demo():
        pass

    try:
        assert missing_cases([fake]) == {"demo:detail": ["lower_role:get", "lower_role:delete"]}
        with pytest.raises(ValueError):
            covers_route("demo:detail", "admin", methods=("get",))
        with pytest.raises(ValueError):
            covers_route("demo:detail", "anonymous", methods=("options",))
        with pytest.raises(ValueError):
            covers_route("demo:detail", "anonymous", methods="get")
        with pytest.raises(TypeError):
            covers_route("demo:detail", "anonymous")  # methods is required
        covers_route("demo:detail", "anonymous", methods=("put",))(test_demo)
        assert [line for line in stale_declarations([fake]) if line.startswith("demo:")] == [
            "demo:detail: anonymous:put declared by ['tests.security.test_route_matrix::"
            "test_the_checker_reports_each_method_without_tests.<locals>.test_demo'], the view has no put"
        ]
    finally:
        route_matrix._COVERAGE.pop("demo:detail", None)


def test_a_view_whose_methods_cannot_be_read_is_reported_not_skipped():
    class Opaque:
        http_method_names = ["get"]

        def dispatch(self, request): ...

    def view():
        pass

    view.view_class = Opaque
    opaque = route_matrix.Route(name="demo:opaque", pattern="api/v1/opaque/", callback=view)
    assert list(missing_cases([opaque])) == ["demo:opaque"]


def test_a_viewset_is_enumerated_by_its_actions():
    """A future ViewSet: its router-made callback carries ``actions``; each action's method needs a test."""
    from rest_framework import viewsets
    from rest_framework.routers import SimpleRouter

    class DemoViewSet(viewsets.ViewSet):
        def list(self, request): ...
        def create(self, request): ...
        def retrieve(self, request, pk=None): ...
        def destroy(self, request, pk=None): ...

    router = SimpleRouter()
    router.register("demo", DemoViewSet, basename="demo")
    routes = {route.name: route for route in walk_routes(router.urls)}
    assert routes["demo-list"].methods() == ["get", "post"]
    assert routes["demo-detail"].methods() == ["get", "delete"]
    assert missing_cases([routes["demo-detail"]]) == {
        "demo-detail": [f"{c}:{m}" for c in CASES for m in ("get", "delete")]
    }


@pytest.mark.urls("tests.fuzz.urls")
def test_a_new_route_without_permission_tests_fails_the_check():
    """As a new app's routes would: the throwaway notes routes declare nothing, so they are reported."""
    route_matrix.import_all_test_modules()
    routes = {route.name: route for route in walk_routes()}
    missing = missing_cases(list(routes.values()))
    assert set(missing) == {"notes", "note"}
    for name in ("notes", "note"):
        assert missing[name] == [f"{c}:{m}" for c in CASES for m in routes[name].methods()]
