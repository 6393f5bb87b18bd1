"""Members and invitations: invite (email + in-app), accept rules, revoke, roles, removal, limits."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from core.testing import assert_api_error
from notifications.models import Notification
from projects.models import Activity, Invitation, Membership, Role
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.security.route_matrix import covers_route

from .factories import InvitationFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db

ACCEPT = "/api/v1/invitations/accept/"


@pytest.fixture
def project(user):
    return ProjectFactory(owner=user, name="Apollo")


def url(project, suffix=""):
    return f"/api/v1/projects/{project.pk}/{suffix}"


def invite(client, project, email, role="editor", capture=None):
    response = client.post(url(project, "members/"), {"email": email, "role": role})
    assert response.status_code == 201, response.json()
    return response.json()


def token_from_last_email() -> str:
    match = re.search(r"token=([A-Za-z0-9_\-]+)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_invite_new_address_sends_email_and_accept_after_registering(
    auth_client, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = invite(auth_client, project, "Newcomer@Example.com", "editor")
    assert body["email"] == "newcomer@example.com" and body["role"] == "editor"
    assert "token" not in body and "token_hash" not in body
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["newcomer@example.com"]
    assert "Apollo" in mail.outbox[0].subject
    token = token_from_last_email()
    invitation = Invitation.objects.get(pk=body["id"])
    assert invitation.token_hash != token and len(invitation.token_hash) == 64  # stored hashed

    newcomer = UserFactory(email="newcomer@example.com", email_verified=True)
    response = client_for(newcomer).post(ACCEPT, {"token": token})
    assert response.status_code == 200, response.json()
    assert response.json()["role"] == "editor"
    assert Membership.objects.get(project=project, user=newcomer).role == Role.EDITOR
    verbs = list(Activity.objects.filter(project=project).values_list("verb", flat=True))
    assert "member.invited" in verbs and "member.joined" in verbs
    # Existing members hear about it.
    assert Notification.objects.filter(user=project.owner, category="project", title__contains="joined").exists()
    # Single use.
    assert_api_error(client_for(newcomer).post(ACCEPT, {"token": token}), 400, "invitation_invalid")


def test_inviting_an_existing_user_also_notifies_them_in_app(auth_client, project, other_user):
    invite(auth_client, project, other_user.email, "viewer")
    notification = Notification.objects.get(user=other_user)
    assert notification.category == "project" and "Apollo" in notification.title


@covers_route("invitations:accept", "other_tenant")
def test_accept_requires_the_invited_verified_email(auth_client, project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(auth_client, project, "target@example.com")
    token = token_from_last_email()
    intruder = UserFactory(email="intruder@example.com")
    assert_api_error(client_for(intruder).post(ACCEPT, {"token": token}), 403, "invitation_email_mismatch")
    unverified = UserFactory(email="target@example.com", email_verified=False)
    assert_api_error(client_for(unverified).post(ACCEPT, {"token": token}), 403, "email_not_verified")
    assert not Membership.objects.filter(project=project, user__in=[intruder, unverified]).exists()


def test_accept_by_invitation_id_is_only_for_the_invited_verified_address(auth_client, project):
    invitee = UserFactory(email="target@example.com", email_verified=True)
    body = invite(auth_client, project, invitee.email)
    by_id = {"invitation_id": body["id"]}
    intruder = UserFactory(email="intruder@example.com", email_verified=True)
    assert_api_error(client_for(intruder).post(ACCEPT, by_id), 400, "invitation_invalid")  # no oracle
    both = client_for(invitee).post(ACCEPT, {**by_id, "token": "x"})
    assert_api_error(both, 400, "validation_error")
    assert_api_error(client_for(invitee).post(ACCEPT, {}), 400, "validation_error")
    assert not Membership.objects.filter(project=project, user__in=[intruder, invitee]).exists()
    assert client_for(invitee).post(ACCEPT, by_id).status_code == 200
    assert Membership.objects.get(project=project, user=invitee).role == Role.EDITOR
    assert_api_error(client_for(invitee).post(ACCEPT, by_id), 400, "invitation_invalid")  # single use


def test_accept_refuses_expired_revoked_and_unknown_tokens(auth_client, project, django_capture_on_commit_callbacks):
    invitee = UserFactory(email="late@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        body = invite(auth_client, project, "late@example.com")
    token = token_from_last_email()
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert_api_error(client_for(invitee).post(ACCEPT, {"token": token}), 400, "invitation_expired")
    assert auth_client.delete(url(project, f"invitations/{body['id']}/")).status_code == 204
    assert_api_error(client_for(invitee).post(ACCEPT, {"token": token}), 400, "invitation_invalid")
    assert_api_error(client_for(invitee).post(ACCEPT, {"token": "made-up"}), 400, "invitation_invalid")
    assert_api_error(client_for(invitee).post(ACCEPT, {}), 400, "validation_error")
    assert_api_error(auth_client.delete(url(project, f"invitations/{body['id']}/")), 409, "invitation_not_pending")
    assert Activity.objects.filter(project=project, verb="member.invitation_revoked").exists()


@covers_route("invitations:accept", "anonymous")
def test_accept_needs_authentication(api_client):
    assert_api_error(api_client.post(ACCEPT, {"token": "x"}), 401, "not_authenticated")


def test_reinviting_replaces_the_pending_invitation(auth_client, project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(auth_client, project, "twice@example.com")
    first = token_from_last_email()
    with django_capture_on_commit_callbacks(execute=True):
        invite(auth_client, project, "twice@example.com", "viewer")
    second = token_from_last_email()
    person = UserFactory(email="twice@example.com")
    assert_api_error(client_for(person).post(ACCEPT, {"token": first}), 400, "invitation_invalid")
    assert client_for(person).post(ACCEPT, {"token": second}).json()["role"] == "viewer"


def test_invite_validations(auth_client, project, other_user):
    MembershipFactory(project=project, user=other_user)
    assert_api_error(
        auth_client.post(url(project, "members/"), {"email": other_user.email.upper(), "role": "viewer"}),
        409,
        "already_member",
    )
    for body in ({"email": "x@example.com", "role": "owner"}, {"email": "nope", "role": "viewer"}, {}):
        assert_api_error(auth_client.post(url(project, "members/"), body), 400, "validation_error")


def test_members_limit_counts_pending_invitations(auth_client, project):
    invite(auth_client, project, "a@example.com")
    invite(auth_client, project, "b@example.com")
    body = assert_api_error(
        auth_client.post(url(project, "members/"), {"email": "c@example.com", "role": "viewer"}),
        402,
        "plan_limit_exceeded",
    )
    assert body["limit"] == "members_per_project"


def test_members_limit_is_checked_again_on_accept(project):
    invitation_token = "tok-123"
    from projects.services import _hash_token

    InvitationFactory(project=project, email="d@example.com", token_hash=_hash_token(invitation_token))
    MembershipFactory(project=project)
    MembershipFactory(project=project)  # full: owner + 2
    person = UserFactory(email="d@example.com")
    body = assert_api_error(client_for(person).post(ACCEPT, {"token": invitation_token}), 402, "plan_limit_exceeded")
    assert body["limit"] == "members_per_project"


def test_change_role_and_remove_notify_and_log(auth_client, project):
    member = MembershipFactory(project=project, role=Role.VIEWER)
    response = auth_client.patch(url(project, f"members/{member.pk}/"), {"role": "editor", "user": "x"})
    assert response.status_code == 200 and response.json()["role"] == "editor"
    assert Notification.objects.filter(user=member.user, title__contains="editor").exists()
    changed = Activity.objects.get(project=project, verb="member.role_changed")
    assert changed.data == {"user_id": str(member.user_id), "old_role": "viewer", "role": "editor"}
    assert auth_client.delete(url(project, f"members/{member.pk}/")).status_code == 204
    assert Notification.objects.filter(user=member.user, title__contains="removed").exists()
    assert Activity.objects.filter(project=project, verb="member.removed").exists()


def test_member_and_invitation_lists_query_counts(auth_client, project, django_assert_num_queries):
    for _ in range(6):
        MembershipFactory(project=project)
        InvitationFactory(project=project)
    for limit in (2, 20):
        with django_assert_num_queries(4):  # user + project/membership + count + page
            response = auth_client.get(url(project, f"members/?limit={limit}"))
        assert len(response.json()["results"]) == min(limit, 7)
        with django_assert_num_queries(4):
            response = auth_client.get(url(project, f"invitations/?limit={limit}"))
        assert len(response.json()["results"]) == min(limit, 6)
    member = response.json()["results"][0]
    assert set(member) == {"id", "email", "role", "invited_by", "expires_at", "created_at"}
