"""Direct uploads against S3 over HTTP (a moto server behind a POST-policy gate): the whole flow,
S3 refusing an oversized body and an expired form, completion checks, downloads, deletions."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine
from django.utils import timezone

from projects.jobs import cleanup_stale_uploads
from projects.models import Activity, File, FileStatus
from tests.conftest import client_for
from tests.support import assert_api_error

from .factories import FileFactory

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


def start(client, world, name="report.pdf", size=11, content_type="application/pdf"):
    return client.post(world.url("files/uploads/"), {"name": name, "size": size, "content_type": content_type})


def post_form(upload: dict, body: bytes, filename: str = "report.pdf") -> requests.Response:
    return requests.post(upload["url"], data=upload["fields"], files={"file": (filename, body)}, timeout=10)


def test_direct_upload_flow_end_to_end(world, s3, django_capture_on_commit_callbacks):
    client = client_for(world.editor)
    response = start(client, world, name="Q3 report.pdf", size=11)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["file"]["status"] == "pending" and body["file"]["name"] == "Q3 report.pdf"
    fields = body["upload"]["fields"]
    key = fields["key"]
    assert key == f"projects/{world.project.pk}/{body['file']['id'].replace('-', '')}/Q3_report.pdf"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 11, 11] in policy["conditions"]
    assert body["upload"]["url"].startswith(s3.server.endpoint_url)

    # Not yet uploaded: complete refuses.
    assert_api_error(client.post(world.url(f"files/{body['file']['id']}/complete/")), 409, "upload_missing")

    # The browser's POST, straight to S3.
    stored = post_form(body["upload"], b"hello world")
    assert stored.status_code == 204, stored.text
    assert key in s3.keys()

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(world.url(f"files/{body['file']['id']}/complete/"))
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "ready"
    assert Activity.objects.filter(project=world.project, verb="file.uploaded").exists()
    # Completing again is harmless.
    assert client.post(world.url(f"files/{body['file']['id']}/complete/")).json()["status"] == "ready"

    # Download: a redirect to a short-lived signed URL served as an attachment.
    viewer = client_for(world.viewer)
    redirect = viewer.get(world.url(f"files/{body['file']['id']}/download/"))
    assert redirect.status_code == 302
    location = redirect["Location"]
    query = parse_qs(urlsplit(location).query)
    assert int(query["X-Amz-Expires"][0]) <= 900
    assert query["response-content-disposition"][0].startswith("attachment;")
    fetched = requests.get(location, timeout=10)
    assert fetched.status_code == 200 and fetched.content == b"hello world"
    assert "attachment" in fetched.headers["Content-Disposition"]
    assert "Q3%20report.pdf" in fetched.headers["Content-Disposition"]

    # Delete removes the object after commit.
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(world.url(f"files/{body['file']['id']}/")).status_code == 204
    assert key not in s3.keys()
    assert Activity.objects.filter(project=world.project, verb="file.deleted").exists()


def test_s3_refuses_an_oversized_body(world, s3):
    client = client_for(world.owner)
    upload = start(client, world, size=5).json()
    refused = post_form(upload["upload"], b"0123456789")  # 10 bytes for a 5-byte form
    assert refused.status_code == 400 and "<Code>EntityTooLarge</Code>" in refused.text
    assert "EntityTooLarge" in s3.refusals
    assert s3.keys() == []
    assert_api_error(client.post(world.url(f"files/{upload['file']['id']}/complete/")), 409, "upload_missing")


def test_s3_refuses_a_smaller_body_and_a_changed_key_or_type(world, s3):
    client = client_for(world.owner)
    upload = start(client, world, size=5).json()["upload"]
    assert post_form(upload, b"abc").status_code == 400  # EntityTooSmall
    other_key = {**upload, "fields": {**upload["fields"], "key": "projects/elsewhere/x.pdf"}}
    assert post_form(other_key, b"12345").status_code == 403
    other_type = {**upload, "fields": {**upload["fields"], "Content-Type": "text/html"}}
    assert post_form(other_type, b"12345").status_code == 403
    assert s3.keys() == []
    assert s3.refusals == ["EntityTooSmall", "AccessDenied", "AccessDenied"]


def test_s3_refuses_an_expired_form(world, s3, settings):
    settings.PROJECTS_UPLOAD_URL_EXPIRY_SECONDS = 60
    client = client_for(world.owner)
    upload = start(client, world, size=3).json()
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        refused = post_form(upload["upload"], b"abc")
    assert refused.status_code == 403 and "Policy expired" in refused.text
    assert s3.keys() == []
    # Within its life the same form works.
    assert post_form(upload["upload"], b"abc").status_code == 204


def test_complete_discards_an_object_of_the_wrong_size(world, s3, django_capture_on_commit_callbacks):
    client = client_for(world.owner)
    upload = start(client, world, size=5).json()
    key = upload["upload"]["fields"]["key"]
    s3.client.put_object(Bucket=s3.name, Key=key, Body=b"123")  # written around the policy
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(world.url(f"files/{upload['file']['id']}/complete/"))
    assert_api_error(response, 409, "upload_size_mismatch")
    assert not File.objects.filter(pk=upload["file"]["id"]).exists()
    assert key not in s3.keys()


def test_same_name_uploads_never_overwrite(world, s3):
    client = client_for(world.owner)
    first = start(client, world, name="a.txt", size=1).json()
    second = start(client, world, name="a.txt", size=1).json()
    assert first["upload"]["fields"]["key"] != second["upload"]["fields"]["key"]


def test_multipart_upload_lands_on_s3_and_downloads(world, s3):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(world.owner)
    response = client.post(
        world.url("files/"), {"file": SimpleUploadedFile("notes.txt", b"abc", "text/plain")}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    file = File.objects.get(pk=response.json()["id"])
    assert file.key in s3.keys()
    location = client.get(world.url(f"files/{file.pk}/download/"))["Location"]
    assert requests.get(location, timeout=10).content == b"abc"


def test_project_deletion_removes_every_object(world, s3, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(world.owner)
    for name in ("a.txt", "b.txt"):
        client.post(world.url("files/"), {"file": SimpleUploadedFile(name, b"x", "text/plain")}, format="multipart")
    pending = start(client, world, name="c.txt", size=1).json()
    post_form(pending["upload"], b"x")
    assert len(s3.keys()) == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(world.url()).status_code == 204
    assert s3.keys() == []


def test_cleanup_job_deletes_stale_pending_uploads_and_objects(world, s3, settings, django_capture_on_commit_callbacks):
    settings.PROJECTS_STALE_UPLOAD_AGE_SECONDS = 3600
    client = client_for(world.owner)
    stale = start(client, world, name="old.bin", size=2).json()
    post_form(stale["upload"], b"ab")
    fresh_at = timezone.now() + timedelta(hours=2)
    File.objects.filter(pk=stale["file"]["id"]).update(created_at=timezone.now() - timedelta(hours=2))
    fresh = start(client, world, name="new.bin", size=2).json()
    with django_capture_on_commit_callbacks(execute=True):
        assert cleanup_stale_uploads() == 1
    assert not File.objects.filter(pk=stale["file"]["id"]).exists()
    assert File.objects.filter(pk=fresh["file"]["id"], status=FileStatus.PENDING).exists()
    assert stale["upload"]["fields"]["key"] not in s3.keys()
    assert File.objects.filter(pk=world.file.pk).exists()  # ready files are never touched
    with time_machine.travel(fresh_at), django_capture_on_commit_callbacks(execute=True):
        assert cleanup_stale_uploads() == 1


def test_download_of_a_pending_file_is_refused(world, s3):
    pending = FileFactory(project=world.project, status=FileStatus.PENDING)
    assert_api_error(client_for(world.viewer).get(world.url(f"files/{pending.pk}/download/")), 409, "file_not_ready")


def test_complete_rechecks_storage_and_discards_over_the_limit(world, s3, django_capture_on_commit_callbacks):
    """The owner's storage grew past the limit between start and complete (as after a downgrade)."""
    client = client_for(world.owner)
    upload = start(client, world, size=3).json()
    assert post_form(upload["upload"], b"abc").status_code == 204
    FileFactory(project=world.project, size=100 * 1024 * 1024)  # now over, whatever happens next
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(world.url(f"files/{upload['file']['id']}/complete/"))
    assert assert_api_error(response, 402, "plan_limit_exceeded")["limit"] == "storage"
    assert not File.objects.filter(pk=upload["file"]["id"]).exists()
    assert upload["upload"]["fields"]["key"] not in s3.keys()
