"""Files on local storage: multipart uploads, validation, file names, quotas, downloads, lists."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.models import File, FileStatus
from projects.storage import clean_filename, key_safe_name
from tests.conftest import client_for
from tests.support import assert_api_error

from .factories import FileFactory, ProjectFactory

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def upload(client, world, name="notes.txt", content=b"hello", content_type="text/plain", **extra):
    data = {"file": SimpleUploadedFile(name, content, content_type), **extra}
    return client.post(world.url("files/"), data, format="multipart")


def test_multipart_upload_stores_and_downloads_as_attachment(world):
    editor = client_for(world.editor)
    response = upload(editor, world, name="Résumé final.txt", content=b"hello")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "ready" and body["size"] == 5 and body["name"] == "Résumé final.txt"
    file = File.objects.get(pk=body["id"])
    assert file.key == f"projects/{world.project.pk}/{file.pk.hex}/Resume_final.txt"
    assert default_storage.exists(file.key)

    download = client_for(world.viewer).get(world.url(f"files/{file.pk}/download/"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"hello"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "R%C3%A9sum%C3%A9%20final.txt" in download["Content-Disposition"]


def test_mass_assigned_file_fields_are_ignored(world):
    response = upload(
        client_for(world.owner), world, status="pending", size="999", key="projects/other/evil", uploaded_by="x"
    )
    assert response.status_code == 201
    file = File.objects.get(pk=response.json()["id"])
    assert file.status == FileStatus.READY and file.size == 5 and file.key.startswith(f"projects/{world.project.pk}/")
    assert file.uploaded_by == world.owner


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("%2e%2e%2f%2e%2e%2fsecret.txt", "secret.txt"),
        ("%252e%252e%252fx.txt", "x.txt"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("a\x00b\x1f\x7fc.txt", "abc.txt"),
        ("  .hidden  ", "hidden"),
        ("evil\u202etxt.exe", "eviltxt.exe"),
    ],
)
def test_file_names_are_cleaned(raw, clean):
    assert clean_filename(raw) == clean
    assert "/" not in key_safe_name(clean) and ".." not in key_safe_name(clean)


@pytest.mark.parametrize("raw", ["", "..", "../", "%2e%2e%2f", "\x00", "/"])
def test_empty_names_are_refused(raw, world, s3):
    response = client_for(world.owner).post(world.url("files/uploads/"), {"name": raw, "size": 3})
    assert_api_error(response, 400, "validation_error" if raw in ("", "\x00") else "invalid_filename")


def test_very_long_names_keep_their_extension():
    cleaned = clean_filename("a" * 5000 + ".pdf")
    assert len(cleaned) == 200 and cleaned.endswith(".pdf")
    assert len(key_safe_name(cleaned)) <= 100


def test_upload_validation(world, settings):
    owner = client_for(world.owner)
    assert_api_error(owner.post(world.url("files/"), {}, format="multipart"), 400, "validation_error")
    assert_api_error(upload(owner, world, content=b""), 400, "validation_error")
    assert_api_error(upload(owner, world, content_type="not a type"), 400, "validation_error")
    settings.PROJECTS_MULTIPART_MAX_BYTES = 10
    assert_api_error(upload(owner, world, content=b"x" * 11), 413, "upload_too_large")


def test_direct_upload_needs_s3(world):
    response = client_for(world.owner).post(world.url("files/uploads/"), {"name": "a.txt", "size": 3})
    assert_api_error(response, 409, "direct_upload_unavailable")


def test_file_size_limit_is_the_plans(world, settings):
    settings.PROJECTS_MULTIPART_MAX_BYTES = 20 * MB  # the transport cap would otherwise come first
    body = assert_api_error(
        upload(client_for(world.owner), world, content=b"x" * (10 * MB + 1)), 402, "plan_limit_exceeded"
    )
    assert body["limit"] == "file_size"
    assert not File.objects.filter(project=world.project, status=FileStatus.PENDING).exists()


def test_storage_limit_spans_all_the_owners_projects(world):
    other = ProjectFactory(owner=world.owner)
    FileFactory(project=other, size=100 * MB - world.file.size - 4)
    assert upload(client_for(world.editor), world, content=b"abcd").status_code == 201  # exactly full
    body = assert_api_error(upload(client_for(world.editor), world, content=b"a"), 402, "plan_limit_exceeded")
    assert body["limit"] == "storage"


def test_direct_upload_limits(world, s3):
    owner = client_for(world.owner)
    body = assert_api_error(
        owner.post(world.url("files/uploads/"), {"name": "big.bin", "size": 10 * MB + 1}), 402, "plan_limit_exceeded"
    )
    assert body["limit"] == "file_size"
    FileFactory(project=world.project, size=100 * MB - world.file.size - 10)
    body = assert_api_error(
        owner.post(world.url("files/uploads/"), {"name": "b.bin", "size": 11}), 402, "plan_limit_exceeded"
    )
    assert body["limit"] == "storage"
    for bad in ({"name": "a", "size": 0}, {"name": "a", "size": -1}, {"name": "a", "size": "x"}, {"name": "a"}):
        assert_api_error(owner.post(world.url("files/uploads/"), bad), 400, "validation_error")


def test_archived_projects_take_no_uploads(world):
    world.project.archived = True
    world.project.save()
    assert_api_error(upload(client_for(world.owner), world), 409, "project_archived")


def test_delete_removes_the_stored_file_after_commit(world, django_capture_on_commit_callbacks):
    response = upload(client_for(world.owner), world)
    key = File.objects.get(pk=response.json()["id"]).key
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(world.editor).delete(world.url(f"files/{response.json()['id']}/")).status_code == 204
    assert not default_storage.exists(key)


def test_file_list_search_ordering_and_query_count(world, django_assert_num_queries):
    FileFactory(project=world.project, name="zeta.txt", size=5)
    FileFactory(project=world.project, name="Alpha report.pdf", size=500)
    FileFactory(project=world.project, name="beta.txt", size=50)
    FileFactory(project=world.project, name="hidden-pending.txt", status=FileStatus.PENDING)
    viewer = client_for(world.viewer)

    def names(query):
        response = viewer.get(world.url(f"files/?{query}"))
        assert response.status_code == 200, response.json()
        return [f["name"] for f in response.json()["results"]]

    assert names("ordering=name")[:2] == ["Alpha report.pdf", "beta.txt"]
    assert names("ordering=-size")[0] == "Alpha report.pdf"
    assert names("ordering=size")[0] == "zeta.txt"
    assert names("q=REPORT") == ["Alpha report.pdf"]
    assert "hidden-pending.txt" not in names("")
    assert_api_error(viewer.get(world.url("files/?ordering=key")), 400, "validation_error")
    assert_api_error(viewer.get(world.url("files/?ordering=")), 400, "validation_error")  # leave it out instead
    assert names("q=") == names("q=%20") == names("")  # an empty search is no filter
    for limit in (1, 20):
        with django_assert_num_queries(4):  # user + project/membership + count + page
            viewer.get(world.url(f"files/?limit={limit}"))


def test_file_detail_of_a_pending_file(world):
    pending = FileFactory(project=world.project, status=FileStatus.PENDING)
    assert client_for(world.viewer).get(world.url(f"files/{pending.pk}/")).json()["status"] == "pending"
