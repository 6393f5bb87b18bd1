"""Which test covers which route's permissions: the registry that ``test_route_matrix.py`` checks.

Every named URL of the project (``django.urls.get_resolver()``, walked recursively, minus
``EXCLUDED_PREFIXES``) needs a permission test for three cases:

- ``anonymous``: no credentials → 401 ``not_authenticated`` (or, for a public route, what an anonymous
  caller may see and nothing more);
- ``other_tenant``: a signed-in user who does not own the object → 404 ``not_found`` (never 403:
  ids must not be probed);
- ``lower_role``: a member whose role is below the one required (a viewer writing, an editor managing
  members, a non-staff user on a staff route) → 403 ``permission_denied``.

How an app declares its coverage (no central list to edit):

1. Decorate the test that proves a case::

       from tests.security.route_matrix import covers_route

       @covers_route("projects:detail", "anonymous")
       def test_detail_needs_a_token(api_client, project): ...

       @covers_route("projects:detail", "other_tenant")
       @covers_route("projects:files", "other_tenant")      # one test may cover several routes
       def test_other_users_objects_are_404(other_client, project): ...

2. Where a case cannot apply, say why in ``NOT_APPLICABLE`` below (e.g. a route that reads only the
   caller's own account has no "other tenant"); a route open to anyone goes in ``PUBLIC``, which
   still requires an ``anonymous`` test showing what it reveals.

The checker imports every ``tests/**/test_*.py`` module, so a declaration counts wherever it lives.
It fails on: an unnamed route, a missing case, a declaration or exemption for a route that no longer
exists, a route whose view lets anonymous callers in without being in ``PUBLIC`` (or the reverse).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

CASES = ("anonymous", "other_tenant", "lower_role")

# Route prefixes the checker leaves out, and why. Keep this list short and explicit.
EXCLUDED_PREFIXES: dict[str, str] = {
    settings.ADMIN_URL: "Django admin: staff sessions with CSRF, permissions enforced by Django's admin",
    "api/schema/": "OpenAPI schema: access set by API_DOCS_ACCESS, tested in tests/core/test_schema.py",
    "api/docs/": "Swagger UI: access set by API_DOCS_ACCESS, tested in tests/core/test_schema.py",
    "stripe/": "dj-stripe webhooks: no user, authenticated by the Stripe signature (billing's tests)",
    "anymail/": "anymail tracking webhooks: no user, authenticated by the webhook secret",
    "static/": "static files",
    "media/": "local media files (S3 in production)",
}

# Routes anyone may call. Their "anonymous" case must still be covered by a test showing what an
# anonymous caller gets; "other_tenant" and "lower_role" do not apply (no tenant data, no roles).
PUBLIC: dict[str, str] = {
    "health": "liveness probe for load balancers: answers {status: ok}, nothing else",
    "health-ready": "readiness probe: names the failing backend, no hosts, versions or errors",
    # TODO(accounts): "accounts:register", "accounts:login", "accounts:password-reset", ...
}

# route name → {case: why it does not apply}. Every entry needs a reason a reviewer can check.
NOT_APPLICABLE: dict[str, dict[str, str]] = {
    # e.g. "accounts:me": {"other_tenant": "reads only the caller's own account",
    #                      "lower_role": "no roles on one's own account"},
}

# route name → case → ["tests.module::test_name", ...], filled by @covers_route at import time.
_COVERAGE: dict[str, dict[str, list[str]]] = {}


def covers_route(route: str, *cases: str) -> Callable[[Any], Any]:
    """Declare that the decorated test (function or class) proves ``cases`` for URL name ``route``."""
    unknown = set(cases) - set(CASES)
    if not cases or unknown:
        raise ValueError(f"covers_route({route!r}): cases must be among {CASES}, got {cases}")

    def decorate(test: Any) -> Any:
        test_id = f"{test.__module__}::{test.__qualname__}"
        for case in cases:
            _COVERAGE.setdefault(route, {}).setdefault(case, []).append(test_id)
        test.covered_routes = [*getattr(test, "covered_routes", []), (route, cases)]
        return test

    return decorate


def coverage() -> dict[str, dict[str, list[str]]]:
    return {route: {case: list(ids) for case, ids in cases.items()} for route, cases in _COVERAGE.items()}


def import_all_test_modules() -> list[str]:
    """Import every tests/**/test_*.py so their @covers_route declarations are recorded."""
    root = Path(__file__).resolve().parent.parent
    imported = []
    for path in sorted(root.rglob("test_*.py")):
        module = ".".join(("tests", *path.relative_to(root).with_suffix("").parts))
        importlib.import_module(module)
        imported.append(module)
    return imported


@dataclass(frozen=True)
class Route:
    name: str | None
    pattern: str
    callback: Any

    @property
    def view_class(self) -> Any:
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)

    def allows_anonymous(self) -> bool:
        """True when the view's permission classes let an anonymous caller in."""
        from rest_framework.permissions import AllowAny

        view = self.view_class
        if view is None or not hasattr(view, "permission_classes"):
            return False  # a plain Django view: judged by its test only
        classes = list(view.permission_classes)
        return not classes or any(cls is AllowAny for cls in classes)


def walk_routes(patterns: list[Any] | None = None, prefix: str = "", namespace: str | None = None) -> Iterator[Route]:
    """Every URL pattern of the project, with namespaced names, minus the excluded prefixes."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        full = prefix + str(entry.pattern)
        if any(full.startswith(excluded) for excluded in EXCLUDED_PREFIXES):
            continue
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            combined = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from walk_routes(entry.url_patterns, full, combined)
        elif isinstance(entry, URLPattern):
            name = entry.name
            if name and namespace:
                name = f"{namespace}:{name}"
            yield Route(name=name, pattern=full, callback=entry.callback)


def missing_cases(routes: list[Route]) -> dict[str, list[str]]:
    """route name → cases with neither a covering test nor an exemption."""
    covered = coverage()
    missing: dict[str, list[str]] = {}
    for route in routes:
        if route.name is None:
            continue
        if route.name in PUBLIC:
            required: tuple[str, ...] = ("anonymous",)
        else:
            required = CASES
        exempt = NOT_APPLICABLE.get(route.name, {})
        gaps = [case for case in required if case not in exempt and not covered.get(route.name, {}).get(case)]
        if gaps:
            missing[route.name] = gaps
    return missing
