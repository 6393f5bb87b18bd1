"""The "anonymous" case of every protected API route: each method of each view, without credentials,
on objects that exist, is 401 ``not_authenticated`` and changes nothing.

The methods come from the views themselves (``http_methods``), so a method added to a view is tested
here without editing this file; a new protected route must be added to ``PROTECTED`` (the route
matrix reports it until it is).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from tests.assistant.factories import ConversationFactory
from tests.nothing_changed import nothing_changed
from tests.notifications.factories import NotificationFactory
from tests.projects.factories import FileFactory, InvitationFactory, MembershipFactory, ProjectFactory
from tests.security.route_matrix import PUBLIC, covers_route, http_methods, walk_routes
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db


def _project(o: dict[str, Any]) -> dict[str, Any]:
    return {"project_id": o["project"].pk}


# route name → the URL kwargs, built from objects the signed-in user owns (see ``objects``).
PROTECTED: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "accounts:me": lambda o: {},
    "accounts:me-export": lambda o: {},
    "accounts:password-change": lambda o: {},
    "projects:list": lambda o: {},
    "projects:detail": _project,
    "projects:transfer": _project,
    "projects:members": _project,
    "projects:member": lambda o: {**_project(o), "member_id": o["member"].pk},
    "projects:invitations": _project,
    "projects:invitation": lambda o: {**_project(o), "invitation_id": o["invitation"].pk},
    "projects:files": _project,
    "projects:file-upload-start": _project,
    "projects:file": lambda o: {**_project(o), "file_id": o["file"].pk},
    "projects:file-complete": lambda o: {**_project(o), "file_id": o["file"].pk},
    "projects:file-download": lambda o: {**_project(o), "file_id": o["file"].pk},
    "projects:activity": _project,
    "invitations:accept": lambda o: {},
    "billing:subscription": lambda o: {},
    "billing:checkout": lambda o: {},
    "billing:portal": lambda o: {},
    "billing:invoices": lambda o: {},
    "assistant:conversations": lambda o: {},
    "assistant:conversation": lambda o: {"conversation_id": o["conversation"].pk},
    "assistant:messages": lambda o: {"conversation_id": o["conversation"].pk},
    "assistant:usage": lambda o: {},
    "notifications:list": lambda o: {},
    "notifications:unread-count": lambda o: {},
    "notifications:read-all": lambda o: {},
    "notifications:preferences": lambda o: {},
    "notifications:detail": lambda o: {"pk": o["notification"].pk},
    "notifications:read": lambda o: {"pk": o["notification"].pk},
}

# Plausible bodies, so a request reaches as far as it could if authentication were skipped.
BODIES: dict[str, dict[str, Any]] = {
    "accounts:me": {"name": "Anonymous", "password": "x"},
    "accounts:password-change": {"old_password": "x", "new_password": "Zebra-Quartz-17-Lamp"},
    "projects:list": {"name": "Anonymous project"},
    "projects:detail": {"name": "Renamed"},
    "projects:transfer": {"user_id": "{member_user}"},
    "projects:members": {"email": "someone@example.com", "role": "viewer"},
    "projects:member": {"role": "editor"},
    "projects:file-upload-start": {"name": "a.txt", "size": 3, "content_type": "text/plain"},
    "invitations:accept": {"token": "x"},
    "billing:checkout": {"plan": "pro"},
    "assistant:conversations": {"title": "Anonymous"},
    "assistant:conversation": {"title": "Renamed"},
    "assistant:messages": {"content": "hello"},
    "notifications:preferences": {"digest_frequency": "daily"},
}

CASES = [(name, method) for name in PROTECTED for method in http_methods(name)]


@pytest.fixture
def objects(user: Any) -> dict[str, Any]:
    project = ProjectFactory(owner=user)
    member = MembershipFactory(project=project)
    return {
        "project": project,
        "member": member,
        "file": FileFactory(project=project),
        "invitation": InvitationFactory(project=project),
        "conversation": ConversationFactory(user=user),
        "notification": NotificationFactory(user=user),
    }


@pytest.mark.parametrize(("name", "method"), CASES, ids=[f"{n}-{m}" for n, m in CASES])
def test_anonymous_callers_get_401_and_change_nothing(api_client, user, objects, name, method):
    url = reverse(name, kwargs=PROTECTED[name](objects))
    body = {k: str(v).format(member_user=objects["member"].user_id) for k, v in BODIES.get(name, {}).items()}
    with nothing_changed():
        response = getattr(api_client, method)(url, body, format="json")
    assert_api_error(response, 401, "not_authenticated")
    assert response.get("WWW-Authenticate", "").startswith("Bearer")


for _name in PROTECTED:
    covers_route(_name, "anonymous", methods=http_methods(_name))(test_anonymous_callers_get_401_and_change_nothing)


def test_every_protected_api_route_is_listed():
    """The API's routes (the schema and docs: tests/core/test_schema.py; the admin: test_admin_routes.py)."""
    protected = {route.name for route in walk_routes() if route.pattern.startswith("api/v1/")} - set(PUBLIC)
    assert set(PROTECTED) == protected
