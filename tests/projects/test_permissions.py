"""Role × method matrix for every project endpoint: owner, editor, viewer, non-member, anonymous.

Anonymous callers get 401; non-members get 404 (never 403, so ids cannot be probed); members
without the role get 403; members with it get the endpoint's success status. Every refusal leaves
every row, the outbox and storage as they were.

Each case names its route, so the route matrix learns from ``CASES`` which (route, method) pairs this
test proves.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.models import FileStatus
from tests.nothing_changed import nothing_changed
from tests.security.route_matrix import covers_route
from tests.support import assert_api_error

from .factories import FileFactory, MembershipFactory

pytestmark = pytest.mark.django_db

ALL = ("owner", "editor", "viewer")
WRITERS = ("owner", "editor")
OWNER = ("owner",)
WHO = ("owner", "editor", "viewer", "non_member", "anonymous")


@dataclass
class Case:
    name: str
    route: str
    method: str
    path: str  # formatted with the world's ids
    allowed: tuple[str, ...]
    status: int
    body: Any = None
    multipart: bool = False
    needs_s3: bool = False
    setup: Any = field(default=None)


def _extra_member(world):
    return {"member": MembershipFactory(project=world.project).pk}


def _pending_with_object(world, s3):
    pending = FileFactory(project=world.project, status=FileStatus.PENDING, size=3)
    s3.client.put_object(Bucket=s3.name, Key=pending.key, Body=b"abc")
    return {"pending": pending.pk}


CASES = [
    Case("project get", "projects:detail", "get", "", ALL, 200),
    Case("project patch", "projects:detail", "patch", "", WRITERS, 200, body={"name": "Renamed"}),
    Case("project delete", "projects:detail", "delete", "", OWNER, 204),
    Case("transfer", "projects:transfer", "post", "transfer/", OWNER, 200, body={"user_id": "{editor_id}"}),
    Case("members list", "projects:members", "get", "members/", ALL, 200),
    # The world's project already has 3 members (the Free plan's limit): an owner passes the role
    # check and reaches the plan check (invitations that succeed: test_invitations.py).
    Case(
        "invite",
        "projects:members",
        "post",
        "members/",
        OWNER,
        402,
        body={"email": "new@example.com", "role": "viewer"},
    ),
    Case("member patch", "projects:member", "patch", "members/{editor_member}/", OWNER, 200, body={"role": "viewer"}),
    Case("member delete", "projects:member", "delete", "members/{member}/", OWNER, 204, setup=_extra_member),
    Case("invitations list", "projects:invitations", "get", "invitations/", OWNER, 200),
    Case("invitation revoke", "projects:invitation", "delete", "invitations/{invitation}/", OWNER, 204),
    Case("files list", "projects:files", "get", "files/", ALL, 200),
    Case("file upload (multipart)", "projects:files", "post", "files/", WRITERS, 201, multipart=True),
    Case(
        "upload start",
        "projects:file-upload-start",
        "post",
        "files/uploads/",
        WRITERS,
        201,
        body={"name": "a.txt", "size": 3, "content_type": "text/plain"},
        needs_s3=True,
    ),
    Case(
        "upload complete",
        "projects:file-complete",
        "post",
        "files/{pending}/complete/",
        WRITERS,
        200,
        needs_s3=True,
        setup=_pending_with_object,
    ),
    Case("file get", "projects:file", "get", "files/{file}/", ALL, 200),
    Case("file delete", "projects:file", "delete", "files/{file}/", WRITERS, 204),
    Case("file download", "projects:file-download", "get", "files/{file}/download/", ALL, 200),
    Case("activity", "projects:activity", "get", "activity/", ALL, 200),
]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_role_matrix(request, world, case: Case, who: str, django_capture_on_commit_callbacks):
    ids: dict[str, Any] = {
        "editor_id": world.editor.pk,
        "editor_member": world.editor_membership.pk,
        "invitation": world.invitation.pk,
        "file": world.file.pk,
    }
    if case.needs_s3:
        s3 = request.getfixturevalue("s3")
        if case.setup:
            ids.update(case.setup(world, s3))
    else:
        if case.setup:
            ids.update(case.setup(world))
        from django.core.files.storage import default_storage

        default_storage.save(world.file.key, SimpleUploadedFile("f", b"x" * world.file.size))
    url = world.url(case.path.format(**ids))
    client = world.client(who)
    kwargs: dict[str, Any] = {}
    if case.multipart:
        kwargs = {"data": {"file": SimpleUploadedFile("up.txt", b"hello", "text/plain")}, "format": "multipart"}
    elif case.body is not None:
        # JSON keeps its types (request serializers are strict: "3" is not an integer).
        data = {k: v.format(**ids) if isinstance(v, str) else v for k, v in case.body.items()}
        kwargs = {"data": data, "format": "json"}
    refused = who not in case.allowed
    with nothing_changed() if refused else nullcontext(), django_capture_on_commit_callbacks(execute=True):
        response = getattr(client, case.method)(url, **kwargs)

    if who == "anonymous":
        assert_api_error(response, 401, "not_authenticated")
    elif who == "non_member":
        assert_api_error(response, 404, "not_found")
    elif who in case.allowed:
        assert response.status_code == case.status, getattr(response, "content", b"")[:500]
    else:
        assert_api_error(response, 403, "permission_denied")


def _declare_the_matrix(test: Any) -> Any:
    """anonymous and other_tenant for every case; lower_role where some role is refused."""
    for case in CASES:
        covers_route(case.route, "anonymous", "other_tenant", methods=(case.method,))(test)
        if set(case.allowed) != set(ALL):
            covers_route(case.route, "lower_role", methods=(case.method,))(test)
    return test


_declare_the_matrix(test_role_matrix)


@pytest.mark.parametrize("suffix", ["", "members/", "files/", "activity/", "invitations/", "files/x/download/"])
@pytest.mark.parametrize("project_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "%2e%2e", "1"])
def test_unknown_or_malformed_ids_are_404(world, project_id, suffix):
    response = world.client("owner").get(f"/api/v1/projects/{project_id}/{suffix}")
    assert_api_error(response, 404, "not_found")


@covers_route("projects:list", "anonymous", methods=("get",))
def test_anonymous_project_list_is_401(api_client):
    assert_api_error(api_client.get("/api/v1/projects/"), 401, "not_authenticated")


def test_a_member_may_leave_but_not_remove_others(world):
    viewer = world.client("viewer")
    with nothing_changed():
        response = viewer.delete(world.url(f"members/{world.editor_membership.pk}/"))
    assert_api_error(response, 403, "permission_denied")
    assert viewer.delete(world.url(f"members/{world.viewer_membership.pk}/")).status_code == 204
    assert_api_error(viewer.get(world.url()), 404, "not_found")


def test_the_owner_can_neither_leave_nor_be_demoted(world):
    owner = world.client("owner")
    own = world.project.memberships.get(user=world.owner)
    with nothing_changed():
        assert_api_error(owner.delete(world.url(f"members/{own.pk}/")), 409, "owner_role_fixed")
        assert_api_error(owner.patch(world.url(f"members/{own.pk}/"), {"role": "viewer"}), 409, "owner_role_fixed")
