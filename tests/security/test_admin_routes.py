"""The admin's routes in the route matrix: every route of the console (``settings.ADMIN_URL``), every
method, for whoever the admin must not let in, is a redirect to its login form and changes nothing.

The routes come from the URL resolver, so a model registered in the admin tomorrow is tested here
without editing this file. Outsiders are: no one signed in ("anonymous"), and ("lower_role") a signed-in
user who is not staff, a staff member holding only an API token (a JWT opens nothing staff-only),
a deactivated staff member's old session, and, with ADMIN_REQUIRE_2FA, a staff session that has not
passed the TOTP login. Inside the admin, the view-only staff groups (support, billing) cannot add, change
or delete through any model admin; what else each group may do: tests/console/test_roles.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import UserFactory
from tests.nothing_changed import nothing_changed
from tests.security.route_matrix import PUBLIC, Route, covers_route, walk_routes

pytestmark = pytest.mark.django_db

ADMIN_ROUTES = [route for route in walk_routes() if route.is_admin]
LOGIN = f"/{settings.ADMIN_URL}login/"
INDEX = f"/{settings.ADMIN_URL}"

# A model admin's write views (support and billing may use none of them).
WRITE_VIEWS = ("_add", "_change", "_delete")

# Sample values for the routes' parameters: an outsider is stopped before any object is looked up.
SAMPLE = {"app_label": "accounts", "url": "no-such-page/", "action_name": "x", "model_name": "x"}


def sample_url(route: Route) -> str:
    """A concrete path for the route's pattern (path converters and regex groups filled in)."""
    path = "/" + route.pattern
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: SAMPLE.get(m.group(1), "1"), path)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLE.get(m.group(1), "1"), path)
    return path.replace("^", "").replace("$", "")


def assert_sent_to_login(route: Route, method: str, response: Any, url: str) -> None:
    where = f"{method.upper()} {url} ({route.key})"
    assert response.status_code == 302, (where, response.status_code)
    if route.name == "admin:logout":
        # Django sends an outsider's logout to the index, which sends them to the login form.
        assert response["Location"] == INDEX, where
    else:
        assert response["Location"] == f"{LOGIN}?next={quote(url)}", (where, response["Location"])


def _is_a_model_write(route: Route) -> bool:
    """A model admin's add, change or delete view (the admin's password_change is one's own password)."""
    return bool(route.name) and route.name.endswith(WRITE_VIEWS) and route.name != "admin:password_change"


def _protected() -> list[Route]:
    return [route for route in ADMIN_ROUTES if route.key not in PUBLIC]


def test_the_walk_finds_the_console_and_each_model_admin():
    keys = {route.key for route in ADMIN_ROUTES}
    assert {"admin:index", "admin:login", "admin:logout", "admin:accounts_user_change"} <= keys
    assert "admin:djstripe_webhookeventtrigger_changelist" in keys
    assert any(not route.name for route in ADMIN_ROUTES)  # Django's object redirect and catch-all


def test_anonymous_callers_are_sent_to_the_login_form_and_change_nothing():
    client = Client()
    with nothing_changed():
        for route in _protected():
            url = sample_url(route)
            for method in route.methods():
                assert_sent_to_login(route, method, getattr(client, method)(url), url)


def test_the_login_form_is_all_an_anonymous_caller_gets():
    client = Client()
    with nothing_changed():
        page = client.get(LOGIN)
        assert page.status_code == 200 and b'name="password"' in page.content
        for method in ("post", "put"):  # a form post (PUT is handled as one): the form again, no session
            again = getattr(client, method)(LOGIN, {"username": "nobody@example.com", "password": "x"})
            assert again.status_code == 200 and b'name="password"' in again.content
        for method in ("patch", "delete"):
            assert getattr(client, method)(LOGIN).status_code == 405
    assert "_auth_user_id" not in client.session


def _outsiders() -> dict[str, Callable[[], Client]]:
    def session(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def staff_token() -> Client:
        token = RefreshToken.for_user(UserFactory(is_staff=True, is_superuser=True)).access_token
        return Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def deactivated_staff() -> Client:
        member = UserFactory(is_staff=True, is_superuser=True)
        client = session(member)
        member.is_active = False
        member.save(update_fields=["is_active"])
        return client

    return {
        "non_staff_session": lambda: session(UserFactory()),
        "staff_api_token": staff_token,
        "deactivated_staff_session": deactivated_staff,
        "staff_session_without_totp": lambda: session(UserFactory(is_staff=True, is_superuser=True)),
    }


@pytest.mark.parametrize("who", list(_outsiders()))
def test_signed_in_outsiders_are_sent_to_the_login_form_and_change_nothing(who, settings):
    settings.ADMIN_REQUIRE_2FA = who == "staff_session_without_totp"
    client = _outsiders()[who]()
    with nothing_changed():
        for route in _protected():  # the admin's logout is refused to them too: the session lives on
            url = sample_url(route)
            for method in route.methods():
                assert_sent_to_login(route, method, getattr(client, method)(url), url)


@pytest.mark.parametrize("group", ["support", "billing"])
def test_staff_groups_cannot_add_change_or_delete_through_any_model_admin(group):
    """Support and billing hold view permissions only (console/roles.py): every model admin's add,
    change and delete refuse their POST with 403, and nothing changes. The id need not exist: Django
    checks the permission before it looks the object up."""
    from tests.console.conftest import admin_client, staff

    client = admin_client(staff(groups=(group,)))
    writes = [route for route in ADMIN_ROUTES if _is_a_model_write(route)]
    assert len(writes) > 60
    with nothing_changed():
        for route in writes:
            url = sample_url(route)
            response = client.post(url, {"post": "yes"})
            assert response.status_code == 403, (route.key, url, response.status_code)


for _route in ADMIN_ROUTES:
    covers_route(_route.key, "anonymous", methods=_route.methods())(
        test_the_login_form_is_all_an_anonymous_caller_gets
        if _route.key in PUBLIC
        else test_anonymous_callers_are_sent_to_the_login_form_and_change_nothing
    )
    if _route.key not in PUBLIC:
        covers_route(_route.key, "lower_role", methods=_route.methods())(
            test_signed_in_outsiders_are_sent_to_the_login_form_and_change_nothing
        )
    if _is_a_model_write(_route):
        covers_route(_route.key, "lower_role", methods=("post",))(
            test_staff_groups_cannot_add_change_or_delete_through_any_model_admin
        )
