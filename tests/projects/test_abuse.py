"""Abuse through projects, performed through the real routes: invitation mail as a phishing channel
(invite/revoke loops, unverified inviters, names that render as links) and the direct-upload loop
start → delete → POST that stored bytes no row counted."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta

import pytest
import requests
import time_machine
from django.core import mail
from django.utils import timezone

from billing.models import Plan
from projects.jobs import cleanup_stale_uploads
from projects.models import Invitation, UploadTombstone
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.support import assert_api_error

from .factories import ProjectFactory

pytestmark = pytest.mark.django_db

# A link a mail client would draw: a scheme, www., or a dotted host name followed by a TLD-like word.
LINKISH = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://|\bwww\.|\b[a-z0-9-]+\.[a-z]{2,}\b")


def invite(client, project, email):
    return client.post(f"/api/v1/projects/{project.pk}/members/", {"email": email, "role": "viewer"})


def revoke(client, project, invitation_id):
    return client.delete(f"/api/v1/projects/{project.pk}/invitations/{invitation_id}/")


def test_invite_revoke_loop_is_capped_per_recipient(user, settings, django_capture_on_commit_callbacks):
    settings.PROJECTS_INVITE_RATE_PER_RECIPIENT = "3/d"
    project = ProjectFactory(owner=user)
    client = client_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            response = invite(client, project, "victim@elsewhere.example")
            assert response.status_code == 201, response.json()
            assert revoke(client, project, response.json()["id"]).status_code == 204
        refused = invite(client, project, "victim@elsewhere.example")
    assert_api_error(refused, 429, "invitation_limit_reached")
    assert int(refused["Retry-After"]) >= 1
    assert [m.to for m in mail.outbox] == [["victim@elsewhere.example"]] * 3
    # The limit is the address's, whoever sends: another owner cannot top it up.
    other = UserFactory()
    assert_api_error(
        invite(client_for(other), ProjectFactory(owner=other), "Victim@Elsewhere.example"),
        429,
        "invitation_limit_reached",
    )


def test_invite_revoke_loop_is_capped_per_inviter(user, settings, django_capture_on_commit_callbacks):
    settings.PROJECTS_INVITE_RATE_PER_INVITER = "5/d"
    project = ProjectFactory(owner=user)
    client = client_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            response = invite(client, project, f"target{n}@elsewhere.example")
            assert response.status_code == 201, response.json()
            assert revoke(client, project, response.json()["id"]).status_code == 204
        refused = invite(client, ProjectFactory(owner=user), "target9@elsewhere.example")
    assert_api_error(refused, 429, "invitation_limit_reached")
    assert len(mail.outbox) == 5
    assert not Invitation.objects.filter(email="target9@elsewhere.example").exists()


def test_unverified_owner_cannot_invite(django_capture_on_commit_callbacks):
    owner = UserFactory(email_verified=False)
    project = ProjectFactory(owner=owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client_for(owner), project, "someone@elsewhere.example")
    assert_api_error(response, 403, "email_not_verified")
    assert not mail.outbox and not Invitation.objects.exists()


@pytest.mark.parametrize("project_name, inviter_name", [("evil.com/login", "https://x.y"), ("Q3 www.bank", "a.b.c")])
def test_names_in_invitation_emails_cannot_render_as_links(
    project_name, inviter_name, django_capture_on_commit_callbacks
):
    owner = UserFactory(name=inviter_name)
    invitee = UserFactory()  # has an account: gets the invitation and the in-app notification's email
    project = ProjectFactory(owner=owner, name=project_name)
    with django_capture_on_commit_callbacks(execute=True):
        assert invite(client_for(owner), project, invitee.email).status_code == 201
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        ((html, _),) = message.alternatives
        for part in (message.subject, message.body, html):
            # Our own links stay (the accept link, the frontend); the names must not be drawn as links.
            ours = re.sub(r"(https?://localhost:3000\S*|localhost:3000)", "", part)
            for name in (project_name, inviter_name):
                assert name not in ours, (name, part)
            assert not LINKISH.search(re.sub(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", "", ours)), ours
        assert "evil" in message.subject or "bank" in message.subject  # the name is still shown, defanged


# -- direct uploads: start → delete → POST --------------------------------------------------------
def start_upload(client, project):
    return client.post(
        f"/api/v1/projects/{project.pk}/files/uploads/",
        {"name": "x.bin", "size": 400, "content_type": "application/octet-stream"},
    )


@pytest.mark.integration
@pytest.mark.parametrize("delete", ["file", "project"])
def test_start_delete_post_loop_cannot_store_unbounded_bytes(delete, user, s3, django_capture_on_commit_callbacks):
    free = importlib.import_module("billing.migrations.0001_initial").PLANS[0]  # the catalogue's Free plan
    assert free["code"] == "free"
    Plan.objects.update_or_create(code="free", defaults={**free, "max_file_size_bytes": 400, "max_storage_bytes": 1000})
    client = client_for(user)
    refused = None
    for _ in range(8):
        project = ProjectFactory(owner=user)
        started = start_upload(client, project)
        if started.status_code != 201:
            refused = started
            break
        upload = started.json()["upload"]
        target = f"/api/v1/projects/{project.pk}/" + (
            f"files/{started.json()['file']['id']}/" if delete == "file" else ""
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert client.delete(target).status_code == 204
        # The signed form still works at S3 (it cannot be revoked)...
        posted = requests.post(upload["url"], data=upload["fields"], files={"file": ("x.bin", b"x" * 400)}, timeout=10)
        assert posted.status_code == 204, posted.text
    # ...but the bytes it may still store count against the owner's storage until it expires.
    stored = sum(o["Size"] for o in s3.client.list_objects_v2(Bucket=s3.name).get("Contents", []))
    assert refused is not None, f"{stored} bytes stored past a 1000-byte quota"
    assert_api_error(refused, 402, "plan_limit_exceeded")
    assert stored <= 1000

    # Once the forms have expired (plus the grace for uploads under way), the hourly job deletes what
    # they stored, and the quota is free again.
    with time_machine.travel(timezone.now() + timedelta(seconds=900 + 300 + 1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            cleanup_stale_uploads()
        assert s3.keys() == [] and not UploadTombstone.objects.exists()
        assert start_upload(client_for(user), ProjectFactory(owner=user)).status_code == 201  # a fresh token
