"""Another tenant's ids in paths are 404, in a body refused alike for any unknown id; the activity log; GDPR export/erasure and
usage providers registered for other apps."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from core.registry import erasers, exporters, usage_providers
from projects.models import Activity, File, Invitation, Membership, Project, Role
from tests.conftest import client_for
from tests.nothing_changed import nothing_changed
from tests.security.route_matrix import covers_route
from tests.support import assert_api_error

from .factories import FileFactory, InvitationFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs(world):
    """Another tenant's project (world.owner is not a member) with a file, a member, an invitation."""
    project = ProjectFactory(owner=world.outsider, name="Secret")
    return {
        "project": project,
        "file": FileFactory(project=project),
        "member": MembershipFactory(project=project, role=Role.EDITOR),
        "invitation": InvitationFactory(project=project),
    }


@covers_route("projects:file", "other_tenant", methods=("get", "delete"))
@covers_route("projects:file-download", "other_tenant", methods=("get",))
@covers_route("projects:file-complete", "other_tenant", methods=("post",))
@covers_route("projects:member", "other_tenant", methods=("patch", "delete"))
@covers_route("projects:invitation", "other_tenant", methods=("delete",))
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "files/{file}/", None),
        ("delete", "files/{file}/", None),
        ("get", "files/{file}/download/", None),
        ("post", "files/{file}/complete/", None),
        ("patch", "members/{member}/", {"role": "viewer"}),
        ("delete", "members/{member}/", None),
        ("delete", "invitations/{invitation}/", None),
    ],
)
def test_foreign_ids_under_my_project_are_404(world, theirs, method, suffix, body):
    ids = {
        "file": theirs["file"].pk,
        "member": theirs["member"].pk,
        "invitation": theirs["invitation"].pk,
        "member_user": theirs["member"].user_id,
    }
    kwargs = {"data": {k: v.format(**ids) for k, v in body.items()}, "format": "json"} if body else {}
    with nothing_changed():
        response = getattr(world.client("owner"), method)(world.url(suffix.format(**ids)), **kwargs)
    assert_api_error(response, 404, "not_found")
    assert File.objects.filter(pk=theirs["file"].pk).exists()
    assert Membership.objects.get(pk=theirs["member"].pk).role == Role.EDITOR
    assert not Invitation.objects.get(pk=theirs["invitation"].pk).revoked


@covers_route("projects:transfer", "other_tenant", methods=("post",))
def test_transferring_to_another_projects_member_changes_nothing_and_tells_nothing(world, theirs):
    """The body names a user, not the request's target: 400 on ``user_id``, the same answer as for an
    id nobody has (so it says nothing about the other project), and nothing changes."""
    owner = world.client("owner")
    with nothing_changed():
        answers = [
            owner.post(world.url("transfer/"), {"user_id": str(user_id)}, format="json").json()
            for user_id in (theirs["member"].user_id, theirs["project"].owner_id, uuid.uuid4())
        ]
    assert answers[0]["code"] == "validation_error" and answers[0]["fields"] == {
        "user_id": ["Not a member of this project."]
    }
    assert answers[0] == answers[1] == answers[2]
    world.project.refresh_from_db()
    theirs["project"].refresh_from_db()
    assert world.project.owner == world.owner and theirs["project"].owner == world.outsider
    assert Membership.objects.get(pk=theirs["member"].pk).role == Role.EDITOR


@covers_route("projects:detail", "other_tenant", methods=("get", "patch", "delete"))
@covers_route("projects:files", "other_tenant", methods=("get", "post"))
@covers_route("projects:members", "other_tenant", methods=("post",))
def test_their_project_is_404_for_every_verb(world, theirs):
    owner = world.client("owner")
    base = f"/api/v1/projects/{theirs['project'].pk}/"
    calls = [("get", ""), ("patch", ""), ("delete", ""), ("get", "files/"), ("post", "files/"), ("post", "members/")]
    with nothing_changed():
        for method, suffix in calls:
            assert_api_error(getattr(owner, method)(base + suffix, {}, format="json"), 404, "not_found")
    assert Project.objects.filter(pk=theirs["project"].pk).exists()


def test_a_member_of_two_projects_cannot_cross_ids(world, theirs):
    """The editor of Apollo is also a viewer of Secret: Secret's file is still 404 under Apollo."""
    MembershipFactory(project=theirs["project"], user=world.editor, role=Role.VIEWER)
    editor = world.client("editor")
    assert editor.get(f"/api/v1/projects/{theirs['project'].pk}/files/{theirs['file'].pk}/").status_code == 200
    with nothing_changed():
        assert_api_error(editor.delete(world.url(f"files/{theirs['file'].pk}/")), 404, "not_found")
        response = editor.delete(f"/api/v1/projects/{theirs['project'].pk}/files/{theirs['file'].pk}/")
        assert_api_error(response, 403, "permission_denied")


def test_activity_records_every_verb_in_order(auth_client, user, other_user, django_capture_on_commit_callbacks):
    project_id = auth_client.post("/api/v1/projects/", {"name": "Log"}).json()["id"]
    base = f"/api/v1/projects/{project_id}/"
    auth_client.patch(base, {"name": "Log 2"})
    member = MembershipFactory(project_id=project_id, user=other_user, role=Role.VIEWER)
    auth_client.patch(base + f"members/{member.pk}/", {"role": "editor"})
    with django_capture_on_commit_callbacks(execute=True):
        invited = auth_client.post(base + "members/", {"email": "x@example.com", "role": "viewer"}).json()
    file_id = auth_client.post(
        base + "files/", {"file": SimpleUploadedFile("a.txt", b"a", "text/plain")}, format="multipart"
    ).json()["id"]
    # A shared project: the other member hears about the upload.
    assert other_user.notifications.filter(title__contains="uploaded a.txt").exists()
    with django_capture_on_commit_callbacks(execute=True):
        auth_client.delete(base + f"files/{file_id}/")
    auth_client.delete(base + f"invitations/{invited['id']}/")
    auth_client.post(base + "transfer/", {"user_id": str(other_user.pk)})
    client_for(user).delete(base + f"members/{Membership.objects.get(project_id=project_id, user=user).pk}/")

    response = client_for(other_user).get(base + "activity/")
    assert response.status_code == 200
    verbs = [a["verb"] for a in response.json()["results"]]
    assert verbs == [
        "member.left",
        "project.ownership_transferred",
        "member.invitation_revoked",
        "file.deleted",
        "file.uploaded",
        "member.invited",
        "member.role_changed",
        "project.renamed",
        "project.created",
    ]
    first = response.json()["results"][-1]
    assert first["actor"] == {"id": str(user.pk), "name": user.name} and first["data"] == {"name": "Log"}


def test_activity_list_query_count(world, django_assert_num_queries):
    for n in range(8):
        Activity.objects.create(
            project=world.project, actor=world.owner if n % 2 else world.editor, verb="file.uploaded"
        )
    viewer = world.client("viewer")
    for limit in (2, 20):
        with django_assert_num_queries(4):
            response = viewer.get(world.url(f"activity/?limit={limit}"))
        assert len(response.json()["results"]) == min(limit, 8)


def test_gdpr_export_lists_projects_with_file_metadata(world):
    export = exporters()["projects"](world.editor)["projects"]
    assert [(p["name"], p["role"]) for p in export] == [("Apollo", "editor")]
    assert export[0]["files"][0]["name"] == world.file.name and "key" not in export[0]["files"][0]


def test_gdpr_erasure_takes_the_person_out_of_other_projects_activity(world):
    """Activity of a project the erased person did not own keeps what happened, not who: the
    invited address and the member's id become null, the actor link is cut."""
    client = world.client("owner")
    assert client.delete(world.url(f"members/{world.editor_membership.pk}/")).status_code == 204
    assert client.delete(world.url(f"invitations/{world.invitation.pk}/")).status_code == 204
    invited = client.post(world.url("members/"), {"email": world.outsider.email, "role": "viewer"}, format="json")
    assert invited.status_code == 201, invited.json()
    with transaction.atomic():
        erasers()["projects"](world.outsider)
        erasers()["projects"](world.editor)
    data = [a.data for a in Activity.objects.filter(project=world.project)]
    assert not any(world.outsider.email in str(d) or str(world.editor.pk) in str(d) for d in data)
    assert {"email": None, "role": "viewer"}.items() <= next(d for d in data if "invitation_id" in d).items()


def test_gdpr_erasure_deletes_owned_projects_and_objects(world, django_capture_on_commit_callbacks):
    default_storage.save(world.file.key, SimpleUploadedFile("f", b"x"))
    shared = ProjectFactory(name="Someone else's")
    MembershipFactory(project=shared, user=world.owner)
    InvitationFactory(project=shared, email=world.owner.email)
    with django_capture_on_commit_callbacks(execute=True):
        erasers()["projects"](world.owner)
    assert not Project.objects.filter(owner=world.owner).exists()
    assert not Membership.objects.filter(user=world.owner).exists()
    assert not Invitation.objects.filter(email=world.owner.email).exists()
    assert Project.objects.filter(pk=shared.pk).exists()
    assert not default_storage.exists(world.file.key)


def test_usage_providers(world):
    FileFactory(project=world.project, size=1000, status="pending")
    providers = usage_providers()
    assert providers["projects"](world.owner) == 1
    assert providers["storage_bytes"](world.owner) == world.file.size + 1000
    assert providers["storage_bytes"](world.editor) == 0
