"""Projects: create, read, update, delete, list filters and ordering, transfer, plan limits,
mass assignment, constant query counts."""

from __future__ import annotations

import uuid

import pytest

from projects.models import Activity, Membership, Project, Role
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.security.route_matrix import covers_route
from tests.support import assert_api_error

from .factories import FileFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_create_makes_the_caller_owner(auth_client, user):
    response = auth_client.post("/api/v1/projects/", {"name": "  Apollo ", "description": "Moon"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Apollo" and body["role"] == "owner" and body["member_count"] == 1
    assert body["owner"] == {"id": str(user.pk), "name": user.name}
    project = Project.objects.get(pk=body["id"])
    assert project.owner == user
    assert Membership.objects.get(project=project).role == Role.OWNER
    assert Activity.objects.get(project=project).verb == "project.created"


@covers_route("projects:list", "other_tenant", methods=("post",))
def test_create_ignores_mass_assigned_fields(auth_client, user, other_user):
    response = auth_client.post(
        "/api/v1/projects/",
        {"name": "X", "owner": str(other_user.pk), "id": "00000000-0000-0000-0000-000000000001", "archived": True},
    )
    assert response.status_code == 201
    project = Project.objects.get(pk=response.json()["id"])
    assert project.owner == user and not project.archived
    assert str(project.pk) != "00000000-0000-0000-0000-000000000001"
    assert not Membership.objects.filter(user=other_user).exists() and not other_user.owned_projects.exists()


@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 201}, {"name": "ok", "description": "d" * 5001}]
)
def test_create_validates(auth_client, body):
    response = auth_client.post("/api/v1/projects/", body)
    assert_api_error(response, 400, "validation_error")


def test_project_count_is_limited_by_plan(auth_client, user):
    for n in range(3):
        assert auth_client.post("/api/v1/projects/", {"name": f"P{n}"}).status_code == 201
    body = assert_api_error(auth_client.post("/api/v1/projects/", {"name": "P4"}), 402, "plan_limit_exceeded")
    assert body["limit"] == "projects"
    # Being a member of someone else's project does not count against my own limit.
    assert Project.objects.filter(owner=user).count() == 3


def test_update_renames_and_archives_with_activity(world):
    editor = world.client("editor")
    response = editor.patch(world.url(), {"name": "Artemis", "archived": True, "owner": str(world.editor.pk)})
    assert response.status_code == 200, response.json()
    world.project.refresh_from_db()
    assert world.project.name == "Artemis" and world.project.archived and world.project.owner == world.owner
    verbs = set(Activity.objects.filter(project=world.project).values_list("verb", flat=True))
    assert {"project.renamed", "project.archived"} <= verbs
    renamed = Activity.objects.get(project=world.project, verb="project.renamed")
    assert renamed.data == {"old_name": "Apollo", "name": "Artemis"} and renamed.actor == world.editor


@covers_route("projects:list", "other_tenant", methods=("get",))
def test_list_shows_owned_and_member_projects_with_roles(world):
    mine = world.client("editor").get("/api/v1/projects/").json()
    assert [(p["name"], p["role"]) for p in mine["results"]] == [("Apollo", "editor")]
    assert mine["results"][0]["member_count"] == 3
    outsider = world.client("non_member").get("/api/v1/projects/").json()
    assert [p["name"] for p in outsider["results"]] == ["Outsider's"]


@pytest.fixture
def many(user):
    names = ["delta", "alpha", "charlie", "bravo"]
    projects = [ProjectFactory(owner=user, name=n) for n in names]
    projects[0].archived = True
    projects[0].save()
    for n in range(3):
        MembershipFactory(project=ProjectFactory(name=f"shared {n}"), user=user, role=Role.VIEWER)
    ProjectFactory(name="not mine")
    return projects


def names(response):
    assert response.status_code == 200, response.json()
    return [p["name"] for p in response.json()["results"]]


def test_list_filters_and_ordering(auth_client, many):
    assert names(auth_client.get("/api/v1/projects/?role=owner&ordering=name")) == [
        "alpha",
        "bravo",
        "charlie",
        "delta",
    ]
    assert names(auth_client.get("/api/v1/projects/?role=viewer&ordering=-name")) == [
        "shared 2",
        "shared 1",
        "shared 0",
    ]
    assert names(auth_client.get("/api/v1/projects/?archived=true")) == ["delta"]
    assert "delta" not in names(auth_client.get("/api/v1/projects/?archived=false"))
    assert names(auth_client.get("/api/v1/projects/?q=CHAR")) == ["charlie"]
    assert names(auth_client.get("/api/v1/projects/?ordering=created"))[0] == "delta"
    assert len(names(auth_client.get("/api/v1/projects/?ordering=-updated"))) == 7


@pytest.mark.parametrize(
    "query", ["ordering=owner__email", "ordering=password", "ordering=id", "role=admin", "archived=maybe"]
)
def test_list_refuses_unknown_filters(auth_client, many, query):
    body = assert_api_error(auth_client.get(f"/api/v1/projects/?{query}"), 400, "validation_error")
    assert set(body["fields"]) & {"ordering", "role", "archived"}


@pytest.mark.parametrize("query", ["ordering=", "role=", "archived="])
def test_an_empty_typed_filter_is_refused_not_read_as_absent(auth_client, many, query):
    """Found by the full fuzz run for ``ordering`` (an enum in the schema): leave it out for the default."""
    body = assert_api_error(auth_client.get(f"/api/v1/projects/?{query}"), 400, "validation_error")
    name = query.rstrip("=")
    assert body["fields"] == {name: ["May not be empty: leave the parameter out instead."]}


def test_an_empty_or_blank_search_is_no_filter(auth_client, many):
    everything = names(auth_client.get("/api/v1/projects/"))
    assert names(auth_client.get("/api/v1/projects/?q=")) == everything
    assert names(auth_client.get("/api/v1/projects/?q=%20%20")) == everything


def test_list_query_count_is_constant(auth_client, many, django_assert_num_queries):
    for limit in (1, 20):
        with django_assert_num_queries(2):  # user (JWT) + page with its total (a window count)
            response = auth_client.get(f"/api/v1/projects/?limit={limit}")
        assert len(response.json()["results"]) == min(limit, 7)


def test_list_rows_match_the_project_serializer(auth_client, user, many):
    """The list builds its items from plain rows (docs/performance.md): they must stay exactly
    what ProjectSerializer gives for the same project, as the detail endpoint returns it."""
    listed = auth_client.get("/api/v1/projects/?limit=100").json()["results"]
    assert len(listed) == 7
    for item in listed:
        detail = auth_client.get(f"/api/v1/projects/{item['id']}/").json()
        assert item == detail


def test_list_pagination_total_next_and_past_the_end(auth_client, many, django_assert_num_queries):
    body = auth_client.get("/api/v1/projects/?limit=3&offset=3").json()
    assert body["count"] == 7 and len(body["results"]) == 3
    assert "offset=6" in body["next"] and "limit=3" in body["next"] and body["previous"]
    with django_assert_num_queries(3):  # past the end: user + empty page + count
        body = auth_client.get("/api/v1/projects/?limit=3&offset=50").json()
    assert body["count"] == 7 and body["results"] == [] and body["next"] is None
    assert auth_client.get("/api/v1/projects/?role=viewer&limit=2").json()["count"] == 3


def test_delete_removes_everything(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert world.client("owner").delete(world.url()).status_code == 204
    assert not Project.objects.filter(pk=world.project.pk).exists()
    assert not Membership.objects.filter(project_id=world.project.pk).exists()


def test_transfer_to_a_member(world):
    owner = world.client("owner")
    response = owner.post(world.url("transfer/"), {"user_id": str(world.viewer.pk)})
    assert response.status_code == 200, response.json()
    assert response.json()["role"] == "editor"  # the previous owner stays on as an editor
    world.project.refresh_from_db()
    assert world.project.owner == world.viewer
    roles = dict(Membership.objects.filter(project=world.project).values_list("user_id", "role"))
    assert roles[world.viewer.pk] == "owner" and roles[world.owner.pk] == "editor"
    activity = Activity.objects.get(project=world.project, verb="project.ownership_transferred")
    assert activity.data["to_user_id"] == str(world.viewer.pk)
    assert world.viewer.notifications.filter(category="project").exists()
    # The old owner can no longer delete it; the new one can.
    assert_api_error(owner.delete(world.url()), 403, "permission_denied")


def test_transfer_refuses_non_members_and_bad_ids(world):
    """400 on ``user_id``, not 404: the project the URL names is there (found by the full fuzz run,
    which read a 404 after creating the project as "created resource not found")."""
    owner = world.client("owner")
    expected = {
        str(world.outsider.pk): ["Not a member of this project."],
        str(uuid.uuid4()): ["Not a member of this project."],
        "nope": ["Must be a valid UUID."],
        str(world.owner.pk): ["Already the owner."],
    }
    for user_id, messages in expected.items():
        body = assert_api_error(owner.post(world.url("transfer/"), {"user_id": user_id}), 400, "validation_error")
        assert body["fields"] == {"user_id": messages}, body
    world.project.refresh_from_db()
    assert world.project.owner == world.owner


def test_transfer_respects_the_new_owners_plan(world):
    for n in range(3):
        ProjectFactory(owner=world.editor, name=f"e{n}")
    body = assert_api_error(
        world.client("owner").post(world.url("transfer/"), {"user_id": str(world.editor.pk)}),
        402,
        "plan_limit_exceeded",
    )
    assert body["limit"] == "projects"


def test_transfer_respects_the_new_owners_storage(world):
    big = UserFactory()
    MembershipFactory(project=world.project, user=big, role=Role.EDITOR)
    FileFactory(project=ProjectFactory(owner=big), size=100 * 1024 * 1024 - 50)
    body = assert_api_error(
        world.client("owner").post(world.url("transfer/"), {"user_id": str(big.pk)}), 402, "plan_limit_exceeded"
    )
    assert body["limit"] == "storage"


def test_detail_includes_role_and_counts(world):
    body = client_for(world.viewer).get(world.url()).json()
    assert body["role"] == "viewer" and body["member_count"] == 3 and body["owner"]["id"] == str(world.owner.pk)
