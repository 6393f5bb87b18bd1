"""Every route has a permission test for anonymous, another tenant and a lower role (OWASP API9/API1/API5).

See tests/security/route_matrix.py for how an app declares its coverage.
"""

import importlib

import pytest

from tests.security import route_matrix
from tests.security.route_matrix import CASES, NOT_APPLICABLE, PUBLIC, covers_route, missing_cases, walk_routes


@pytest.fixture(scope="module")
def routes():
    route_matrix.import_all_test_modules()
    return list(walk_routes())


def test_the_walk_finds_the_project_routes_and_skips_the_excluded_ones(routes):
    patterns = {route.pattern for route in routes}
    assert "api/v1/health/" in patterns
    assert not any(p.startswith(("admin/", "api/schema/", "api/docs/", "stripe/")) for p in patterns)


def test_every_route_is_named(routes):
    unnamed = [route.pattern for route in routes if not route.name]
    assert not unnamed, f"name these routes ('<app>:<action>') so their permissions can be declared: {unnamed}"


def test_every_route_has_a_permission_test_for_each_case(routes):
    missing = missing_cases(routes)
    lines = [f"  {name}: {', '.join(cases)}" for name, cases in sorted(missing.items())]
    assert not missing, (
        "routes without a permission test (decorate the test with "
        "@covers_route(name, case), or give a reason in tests/security/route_matrix.py):\n" + "\n".join(lines)
    )


def test_declarations_name_existing_routes_and_tests(routes):
    names = {route.name for route in routes}
    stale = sorted(set(route_matrix.coverage()) - names)
    assert not stale, f"@covers_route names routes that do not exist (renamed or removed?): {stale}"
    stale_exemptions = sorted((set(PUBLIC) | set(NOT_APPLICABLE)) - names)
    assert not stale_exemptions, f"PUBLIC/NOT_APPLICABLE entries for routes that do not exist: {stale_exemptions}"
    for name, cases in NOT_APPLICABLE.items():
        assert set(cases) <= set(CASES) and all(reason.strip() for reason in cases.values()), (name, cases)
    for cases in route_matrix.coverage().values():
        for test_ids in cases.values():
            for test_id in test_ids:
                module, _, qualname = test_id.partition("::")
                obj = importlib.import_module(module)
                for part in qualname.split("."):
                    obj = getattr(obj, part)
                assert callable(obj), test_id


def test_routes_open_to_anonymous_callers_are_declared_public(routes):
    open_routes = {route.name for route in routes if route.allows_anonymous()}
    undeclared = sorted(open_routes - set(PUBLIC))
    assert not undeclared, f"these views allow anonymous callers but are not in PUBLIC: {undeclared}"
    closed = sorted(set(PUBLIC) & ({route.name for route in routes} - open_routes))
    assert not closed, f"PUBLIC lists routes whose views require authentication: {closed}"


def test_the_checker_reports_a_route_without_tests():
    fake = route_matrix.Route(name="demo:detail", pattern="api/v1/demo/<uuid:id>/", callback=None)
    assert missing_cases([fake]) == {"demo:detail": list(CASES)}

    @covers_route("demo:detail", "anonymous", "other_tenant")
    def test_demo():
        pass

    try:
        assert missing_cases([fake]) == {"demo:detail": ["lower_role"]}
        with pytest.raises(ValueError):
            covers_route("demo:detail", "admin")
    finally:
        route_matrix._COVERAGE.pop("demo:detail", None)


@pytest.mark.urls("tests.fuzz.urls")
def test_a_new_route_without_permission_tests_fails_the_check():
    """As a new app's routes would: the throwaway notes routes declare nothing, so they are reported."""
    route_matrix.import_all_test_modules()
    missing = missing_cases(list(walk_routes()))
    assert missing == {"notes": list(CASES), "note": list(CASES)}
