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
    # accounts: the ways in, before a caller has an access token. Each answers the same whether an
    # address has an account or not, and is throttled per IP and per address (tests/accounts/test_abuse.py).
    "accounts:register": "sign-up; an address already taken gets the same 201 shape as a new one",
    "accounts:verify-email": "authenticated by the signed, single-use, expiring token from the email",
    "accounts:email-revert": "authenticated by the signed, expiring token mailed to the old address; refused once used",
    "accounts:verify-email-resend": "202 with one fixed body whoever the address belongs to",
    "accounts:token": "login; one 401 invalid_credentials for a wrong password, unknown or inactive address",
    "accounts:token-refresh": "authenticated by the refresh token in the body (rotated, blacklisted once used)",
    "accounts:logout": "authenticated by the refresh token it revokes; a bad token is 401 token_not_valid",
    "accounts:password-reset": "202 with one fixed body whoever the address belongs to",
    "accounts:password-reset-confirm": "authenticated by the signed, single-use, expiring token from the email",
    "billing:plans": "the public price list: plan codes, limits and prices, no user data",
    "notifications:unsubscribe": "one-click unsubscribe from an email (RFC 8058): authenticated by the "
    "signed user+category token in the link; reveals the category and a masked address only",
}

NO_ROLES_ON_ONES_ACCOUNT = "no roles on one's own account (staff powers live in the admin, excluded above)"
NO_ROLES_IN_APP = "{app} objects belong to one user: there are no roles, so no lower one"

# route name → {case: why it does not apply}. Every entry needs a reason a reviewer can check.
NOT_APPLICABLE: dict[str, dict[str, str]] = {
    # accounts: the caller's own account, found from the token, never from an id in the request.
    "accounts:me": {"lower_role": NO_ROLES_ON_ONES_ACCOUNT},
    "accounts:me-export": {"lower_role": NO_ROLES_ON_ONES_ACCOUNT},
    "accounts:password-change": {"lower_role": NO_ROLES_ON_ONES_ACCOUNT},
    # projects: roles are per project; listing and creating projects needs none.
    "projects:list": {"lower_role": "any signed-in user lists the projects they belong to and creates their own"},
    "projects:activity": {"lower_role": "read-only and open to every member: the viewer gets 200 in the role matrix"},
    "projects:file-download": {
        "lower_role": "read-only and open to every member: the viewer gets 200 in the role matrix"
    },
    "invitations:accept": {"lower_role": "no role is needed to accept: the invitation carries the role it grants"},
    # billing: one subscription per user, no roles.
    "billing:subscription": {"lower_role": NO_ROLES_IN_APP.format(app="billing")},
    "billing:checkout": {"lower_role": NO_ROLES_IN_APP.format(app="billing")},
    "billing:portal": {"lower_role": NO_ROLES_IN_APP.format(app="billing")},
    "billing:invoices": {"lower_role": NO_ROLES_IN_APP.format(app="billing")},
    # assistant: conversations and usage belong to one user, no roles.
    "assistant:conversations": {"lower_role": NO_ROLES_IN_APP.format(app="assistant")},
    "assistant:conversation": {"lower_role": NO_ROLES_IN_APP.format(app="assistant")},
    "assistant:messages": {"lower_role": NO_ROLES_IN_APP.format(app="assistant")},
    "assistant:usage": {"lower_role": NO_ROLES_IN_APP.format(app="assistant")},
    # notifications: one user's inbox and preferences, no roles.
    "notifications:list": {"lower_role": NO_ROLES_IN_APP.format(app="notifications")},
    "notifications:unread-count": {"lower_role": NO_ROLES_IN_APP.format(app="notifications")},
    "notifications:read-all": {"lower_role": NO_ROLES_IN_APP.format(app="notifications")},
    "notifications:preferences": {"lower_role": NO_ROLES_IN_APP.format(app="notifications")},
    "notifications:detail": {"lower_role": NO_ROLES_IN_APP.format(app="notifications")},
    "notifications:read": {"lower_role": NO_ROLES_IN_APP.format(app="notifications")},
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


HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def route_named(name: str) -> Route:
    for route in walk_routes():
        if route.name == name:
            return route
    raise LookupError(f"no route named {name!r}")


def http_methods(name: str) -> list[str]:
    """The HTTP methods the route's view answers (OPTIONS and HEAD aside)."""
    view = route_named(name).view_class
    return [method for method in HTTP_METHODS if hasattr(view, method)]
