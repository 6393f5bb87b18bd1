"""Which test covers which route's permissions, method by method: the registry ``test_route_matrix.py`` checks.

Every URL of the project (``django.urls.get_resolver()``, walked recursively: the API, the schema and
docs, the admin, ``stripe/`` and ``anymail/``) and every HTTP method its view answers (``methods_of``:
a DRF/Django view's ``http_method_names`` it implements, a ViewSet's actions, every method for a plain
function view such as the admin's, which branch on POST and treat the rest like GET) needs a
permission test for three cases:

- ``anonymous``: no credentials → 401 ``not_authenticated`` (or, for a public route, what an anonymous
  caller may see and nothing more; for the admin, a redirect to its login page);
- ``other_tenant``: a signed-in user who does not own the object → 404 ``not_found`` (never 403:
  ids must not be probed);
- ``lower_role``: a member whose role is below the one required (a viewer writing, an editor managing
  members, a non-staff user on a staff route) → 403 ``permission_denied``.

A refused write must also leave everything as it was (``tests/nothing_changed.py``).

How an app declares its coverage (no central list to edit):

1. Decorate the test that proves a case, naming the methods it sends::

       from tests.security.route_matrix import covers_route

       @covers_route("projects:detail", "anonymous", methods=("get", "patch", "delete"))
       def test_detail_needs_a_token(api_client, project): ...

       @covers_route("projects:detail", "other_tenant", methods=("get",))
       @covers_route("projects:files", "other_tenant", methods=("get",))   # one test, several routes
       def test_other_users_objects_are_404(other_client, project): ...

   ``methods`` is required: coverage is per (route, method), so a method added to a view, or a new
   ViewSet action, is reported until a test sends it.

2. Where a case cannot apply, say why in ``NOT_APPLICABLE`` below (e.g. a route that reads only the
   caller's own account has no "other tenant"); a route open to anyone goes in ``PUBLIC``, which
   still requires an ``anonymous`` test showing what it reveals. A route that no test can reach goes
   in ``EXEMPT`` with the reason.

Routes without a name (two of Django's own admin patterns) are keyed by their pattern.

The checker imports every ``tests/**/test_*.py`` module, so a declaration counts wherever it lives.
It fails on: an unnamed route outside the admin, a missing (route, method, case), a declaration for a
route or method that does not exist, an exemption for a route that no longer exists, a route whose
view lets anonymous callers in without being in ``PUBLIC`` (or the reverse).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

CASES = ("anonymous", "other_tenant", "lower_role")

ADMIN_PREFIX = settings.ADMIN_URL

# Routes that are not the versioned JSON API, and why. The route matrix checks them like any other;
# the API-wide checks (schema inventory, /api/v1/ only, throttles, JSON headers) use ``api_routes()``.
NON_API_PREFIXES: dict[str, str] = {
    ADMIN_PREFIX: "the Django admin (the staff console): HTML pages behind staff sessions",
    "api/schema/": "the OpenAPI schema itself",
    "api/docs/": "the Swagger UI (HTML)",
    "stripe/": "dj-stripe's webhook: called by Stripe, authenticated by its signature",
    "anymail/": "anymail's SES tracking webhook: called by SNS, authenticated by basic auth and signature",
}

# Routes no test reaches, and why. Keep this short: each entry is a hole in the matrix.
EXEMPT: dict[str, str] = {}

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
    # webhooks: no user; the caller is authenticated by what it signs.
    "djstripe:djstripe_webhook_by_uuid": "Stripe's webhook: authenticated by the Stripe signature of the "
    "endpoint's secret; an unsigned or forged event is refused and processes nothing",
    "anymail:amazon_ses_tracking_webhook": "SES bounces via SNS: authenticated by basic auth and the SNS "
    "message signature; a forged message is refused and suppresses nothing",
    # the admin's way in: a form, and nothing else, for whoever is not signed in.
    "admin:login": "the console's login form; an anonymous caller gets the form, a failed login gets it back",
}

NO_TENANT_IN_DOCS = "the schema and its UI describe the API, not anyone's data: there is no other tenant"
NO_TENANT_IN_ADMIN = (
    "the admin has no tenants: staff act across all users by design; what a staff role may do is its lower_role case"
)

READ_BY_EVERY_MEMBER = "a read open to every member: the viewer gets 200 in the role matrix"
NO_ROLES_ON_ONES_ACCOUNT = "no roles on one's own account (staff powers live in the admin, excluded above)"
NO_ROLES_IN_APP = "{app} objects belong to one user: there are no roles, so no lower one"

# route name → {case, or "case:method" for one method only: why it does not apply}. Every entry needs a
# reason a reviewer can check.
NOT_APPLICABLE: dict[str, dict[str, str]] = {
    # accounts: the caller's own account, found from the token, never from an id in the request.
    "accounts:me": {"lower_role": NO_ROLES_ON_ONES_ACCOUNT},
    "accounts:me-export": {"lower_role": NO_ROLES_ON_ONES_ACCOUNT},
    "accounts:password-change": {"lower_role": NO_ROLES_ON_ONES_ACCOUNT},
    # projects: roles are per project; listing and creating projects needs none.
    "projects:list": {"lower_role": "any signed-in user lists the projects they belong to and creates their own"},
    "projects:detail": {"lower_role:get": READ_BY_EVERY_MEMBER},
    "projects:members": {"lower_role:get": READ_BY_EVERY_MEMBER},
    "projects:files": {"lower_role:get": READ_BY_EVERY_MEMBER},
    "projects:file": {"lower_role:get": READ_BY_EVERY_MEMBER},
    "projects:activity": {"lower_role": READ_BY_EVERY_MEMBER},
    "projects:file-download": {"lower_role": READ_BY_EVERY_MEMBER},
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
    # schema and docs: API_DOCS_ACCESS decides who reads them (tests/core/test_schema.py).
    "schema": {"other_tenant": NO_TENANT_IN_DOCS},
    "docs": {"other_tenant": NO_TENANT_IN_DOCS},
}

# namespace → {case: why it does not apply to any of its routes}.
NOT_APPLICABLE_IN_NAMESPACE: dict[str, dict[str, str]] = {
    "admin": {"other_tenant": NO_TENANT_IN_ADMIN},
}

HTTP_METHODS = ("get", "post", "put", "patch", "delete")

# route key → case → method → ["tests.module::test_name", ...], filled by @covers_route at import time.
_COVERAGE: dict[str, dict[str, dict[str, list[str]]]] = {}


def covers_route(route: str, *cases: str, methods: Iterable[str]) -> Callable[[Any], Any]:
    """Declare that the decorated test (function or class) proves ``cases`` for ``route`` with ``methods``."""
    unknown = set(cases) - set(CASES)
    if not cases or unknown:
        raise ValueError(f"covers_route({route!r}): cases must be among {CASES}, got {cases}")
    declared = () if isinstance(methods, str) else tuple(methods)  # "get" alone would read as g, e, t
    if not declared or set(declared) - set(HTTP_METHODS):
        raise ValueError(f"covers_route({route!r}): methods must be a tuple among {HTTP_METHODS}, got {methods!r}")

    def decorate(test: Any) -> Any:
        test_id = f"{test.__module__}::{test.__qualname__}"
        for case in cases:
            for method in declared:
                _COVERAGE.setdefault(route, {}).setdefault(case, {}).setdefault(method, []).append(test_id)
        test.covered_routes = [*getattr(test, "covered_routes", []), (route, cases, declared)]
        return test

    return decorate


def coverage() -> dict[str, dict[str, dict[str, list[str]]]]:
    return {
        route: {case: {method: list(ids) for method, ids in by_method.items()} for case, by_method in cases.items()}
        for route, cases in _COVERAGE.items()
    }


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
    namespace: str | None = None

    @property
    def key(self) -> str:
        """The name, or for an unnamed route (only Django's own admin has them) the pattern."""
        return self.name or self.pattern

    @property
    def view_class(self) -> Any:
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)

    @property
    def is_admin(self) -> bool:
        return self.pattern.startswith(ADMIN_PREFIX)

    def methods(self) -> list[str]:
        """The HTTP methods the view answers, OPTIONS and HEAD aside.

        A ViewSet answers its actions' methods; a class-based view the ``http_method_names`` it
        implements; a plain function (the admin's views) is reached by every method.
        """
        actions = getattr(self.callback, "actions", None)
        if actions:
            return [method for method in HTTP_METHODS if method in actions]
        view = self.view_class
        if view is None:
            return list(HTTP_METHODS)
        allowed = getattr(view, "http_method_names", HTTP_METHODS)
        return [method for method in HTTP_METHODS if method in allowed and hasattr(view, method)]

    def allows_anonymous(self) -> bool | None:
        """For a DRF view, whether its permission classes let an anonymous caller in; None otherwise."""
        from rest_framework.permissions import AllowAny

        view = self.view_class
        if view is None or not hasattr(view, "permission_classes"):
            return None  # a plain Django view: judged by its test only
        # as_view(permission_classes=...) overrides the class attribute for this route only.
        initkwargs = getattr(self.callback, "initkwargs", {})
        classes = list(initkwargs.get("permission_classes", view.permission_classes))
        return not classes or any(cls is AllowAny for cls in classes)


def walk_routes(patterns: list[Any] | None = None, prefix: str = "", namespace: str | None = None) -> Iterator[Route]:
    """Every URL pattern of the project, with namespaced names."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        full = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            combined = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from walk_routes(entry.url_patterns, full, combined)
        elif isinstance(entry, URLPattern):
            name = entry.name
            if name and namespace:
                name = f"{namespace}:{name}"
            yield Route(name=name, pattern=full, callback=entry.callback, namespace=namespace)


def api_routes() -> list[Route]:
    """The versioned JSON API: every route but those under ``NON_API_PREFIXES``."""
    return [route for route in walk_routes() if not route.pattern.startswith(tuple(NON_API_PREFIXES))]


def exempt_cases(route: Route) -> dict[str, str]:
    """case → why it does not apply, for this route's exempt cases."""
    exempt = dict(NOT_APPLICABLE_IN_NAMESPACE.get(route.namespace or "", {}))
    exempt.update(NOT_APPLICABLE.get(route.key, {}))
    if route.key in PUBLIC:
        exempt.update({case: "public: " + PUBLIC[route.key] for case in CASES if case != "anonymous"})
    return exempt


def missing_cases(routes: list[Route]) -> dict[str, list[str]]:
    """route key → ``case:method`` pairs with neither a covering test nor an exemption."""
    covered = coverage()
    missing: dict[str, list[str]] = {}
    for route in routes:
        if route.key in EXEMPT:
            continue
        if not route.methods():
            missing[route.key] = ["no HTTP method found on the view: teach Route.methods() how to read it"]
            continue
        exempt = exempt_cases(route)
        declared = covered.get(route.key, {})
        gaps = [
            f"{case}:{method}"
            for case in CASES
            if case not in exempt
            for method in route.methods()
            if f"{case}:{method}" not in exempt and not declared.get(case, {}).get(method)
        ]
        if gaps:
            missing[route.key] = gaps
    return missing


def stale_declarations(routes: list[Route]) -> list[str]:
    """Declarations naming a route that does not exist, or a method its view does not answer."""
    by_key = {route.key: route for route in routes}
    stale = []
    for key, cases in coverage().items():
        route = by_key.get(key)
        if route is None:
            stale.append(f"{key}: no such route")
            continue
        for case, by_method in cases.items():
            for method in sorted(set(by_method) - set(route.methods())):
                stale.append(f"{key}: {case}:{method} declared by {by_method[method]}, the view has no {method}")
    return stale


def route_named(name: str) -> Route:
    for route in walk_routes():
        if route.name == name:
            return route
    raise LookupError(f"no route named {name!r}")


def http_methods(name: str) -> list[str]:
    """The HTTP methods the named route's view answers (OPTIONS and HEAD aside)."""
    return route_named(name).methods()
