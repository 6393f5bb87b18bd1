"""S3 down: file operations answer 503 ``storage_unavailable`` within the S3 timeouts, and nothing is
recorded as uploaded that is not stored (no ``ready`` File row, no quota used by a failed upload).

S3 is a moto server behind its POST-policy gate (tests/fixtures/moto.py) with a FaultyProxy in
front that the tests make refuse connections (a stopped S3) or accept and never answer (a hang).
"""

from __future__ import annotations

import pytest
import requests
from celery.exceptions import Retry
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.models import Activity, File, FileStatus
from projects.selectors import storage_used_bytes
from projects.tasks import storage_delete_task
from tests.conftest import client_for
from tests.projects.factories import ProjectFactory
from tests.resilience.conftest import S3_CONNECT_TIMEOUT, S3_MAX_ATTEMPTS, S3_READ_TIMEOUT
from tests.support import assert_api_error
from tests.timing import assert_within, baseline, timed

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.integration,
]

# The most a storage call waits while S3 hangs: every attempt waits for its timeouts.
S3_WAITS = S3_MAX_ATTEMPTS * (S3_CONNECT_TIMEOUT + S3_READ_TIMEOUT)


@pytest.fixture
def owner(user):
    return user


@pytest.fixture
def project(owner):
    return ProjectFactory(owner=owner, name="Apollo")


def files_url(project, suffix=""):
    return f"/api/v1/projects/{project.pk}/files/{suffix}"


def upload(client, project, name="notes.txt", body=b"hello world"):
    return timed(
        client.post, files_url(project), {"file": SimpleUploadedFile(name, body, "text/plain")}, format="multipart"
    )


def api_baseline(client, project) -> float:
    """A request of the same client and project that touches no storage, timed on this machine now."""
    return baseline(lambda: client.get(files_url(project)))


def assert_storage_unavailable(response):
    body = assert_api_error(response, 503, "storage_unavailable")
    assert int(response["Retry-After"]) > 0
    assert "botocore" not in body["message"] and "127.0.0.1" not in body["message"]  # no internals
    return body


@pytest.mark.parametrize("fault", ["refuse", "hang"])
def test_a_multipart_upload_to_a_dead_s3_is_503_and_records_nothing(
    fault, owner, project, broken_s3, django_capture_on_commit_callbacks
):
    client = client_for(owner)
    base = api_baseline(client, project)
    getattr(broken_s3, fault)()
    with django_capture_on_commit_callbacks(execute=False) as cleanups:
        response, elapsed = upload(client, project)
    assert_storage_unavailable(response)
    assert_within(elapsed, waits=S3_WAITS, base=base, what=fault)
    assert not File.objects.filter(project=project).exists()  # the reservation was dropped
    assert storage_used_bytes(owner=owner) == 0  # no quota used
    assert not Activity.objects.filter(project=project, verb="file.uploaded").exists()

    # S3 comes back: the queued cleanup of the dropped key runs and finds nothing left over, and the
    # same upload now works (no restart needed).
    broken_s3.restore()
    for callback in cleanups:
        callback()
    assert broken_s3.keys() == []
    response, _ = upload(client, project)
    assert response.status_code == 201, response.json()
    assert File.objects.get(project=project).status == FileStatus.READY
    assert len(broken_s3.keys()) == 1


@pytest.mark.parametrize("fault", ["refuse", "hang"])
def test_completing_a_direct_upload_while_s3_is_down_is_503_and_stays_pending(fault, owner, project, broken_s3):
    client = client_for(owner)
    # Starting needs no request to S3 (the form is signed locally), so it works while S3 is down.
    getattr(broken_s3, fault)()
    started = client.post(
        files_url(project, "uploads/"), {"name": "r.pdf", "size": 11, "content_type": "application/pdf"}
    )
    assert started.status_code == 201, started.json()
    file_id = started.json()["file"]["id"]
    response = client.post(files_url(project, f"{file_id}/complete/"))
    assert_storage_unavailable(response)
    file = File.objects.get(pk=file_id)
    assert file.status == FileStatus.PENDING  # never "ready" without a stored object
    assert not Activity.objects.filter(project=project, verb="file.uploaded").exists()

    # Back up: the browser's POST lands, and the client's retry of complete/ succeeds.
    broken_s3.restore()
    form = started.json()["upload"]
    stored = requests.post(form["url"], data=form["fields"], files={"file": ("r.pdf", b"hello world")}, timeout=10)
    assert stored.status_code == 204, stored.text
    done = client.post(files_url(project, f"{file_id}/complete/"))
    assert done.status_code == 200 and done.json()["status"] == "ready"


def test_deleting_while_s3_is_down_answers_and_the_retried_task_removes_the_object(
    owner, project, broken_s3, django_capture_on_commit_callbacks
):
    client = client_for(owner)
    response, _ = upload(client, project)
    file = File.objects.get(pk=response.json()["id"])
    assert broken_s3.keys() == [file.key]

    base = api_baseline(client, project)
    broken_s3.refuse()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        deleted, elapsed = timed(client.delete, files_url(project, f"{file.pk}/"))
    assert deleted.status_code == 204
    assert_within(elapsed, waits=0, base=base)  # no S3 call: the object's deletion is a task, after commit
    assert not File.objects.filter(pk=file.pk).exists()
    assert storage_used_bytes(owner=owner) == 0
    assert len(callbacks) == 1

    # The task cannot reach S3: it asks to be retried (a worker republishes it after the countdown)
    # and the object stays.
    with pytest.raises(Retry) as retry:
        storage_delete_task.apply(args=[[file.key]], throw=True)
    assert retry.value.when == storage_delete_task.default_retry_delay
    assert broken_s3.keys() == [file.key]

    # S3 is back: the retried (or redelivered) task removes it; running it again changes nothing.
    broken_s3.restore()
    assert storage_delete_task.apply(args=[[file.key]]).get() == 1
    assert broken_s3.keys() == []
    assert storage_delete_task.apply(args=[[file.key]]).get() == 1
    assert broken_s3.keys() == []


def test_download_while_s3_is_down_still_redirects_without_calling_s3(owner, project, broken_s3):
    client = client_for(owner)
    response, _ = upload(client, project)
    file_id = response.json()["id"]
    base = api_baseline(client, project)
    broken_s3.hang()
    redirect, elapsed = timed(client.get, files_url(project, f"{file_id}/download/"))
    assert redirect.status_code == 302  # the URL is signed locally; the browser meets S3 itself
    assert_within(elapsed, waits=0, base=base)  # no S3 call (a hung one would take S3_WAITS)
    assert redirect["Location"].startswith(broken_s3.endpoint_url)


# ------------------------------------------------------------------------------------------------
# End to end: a real gunicorn, S3 refused then hanging then back, what the client gets
# ------------------------------------------------------------------------------------------------
def bearer(user) -> dict[str, str]:
    from rest_framework_simplejwt.tokens import AccessToken

    return {"Authorization": f"Bearer {AccessToken.for_user(user)}"}


def timed_request(method: str, url: str, **kwargs):
    return timed(requests.request, method, url, timeout=30, allow_redirects=False, **kwargs)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_server_with_s3_refusing_then_hanging_answers_503_fast_then_recovers(broken_s3, django_db_blocker):
    from tests.factories import UserFactory
    from tests.fuzz.harness import pytest_database_url
    from tests.resilience.conftest import s3_server_env
    from tests.servers import gunicorn

    owner = UserFactory()
    project = ProjectFactory(owner=owner)
    auth = bearer(owner)
    connect, read, attempts = 1.0, 1.0, 2
    env = {
        **s3_server_env(broken_s3, connect=connect, read=read, attempts=attempts),
        "DATABASE_URL": pytest_database_url(),
        "FAULT_TASKS_EAGER": "0",  # the object cleanup is queued, as with a real worker
        "CACHE_KEY_PREFIX": f"faults-s3-{broken_s3.proxy.port}",
    }
    waits = attempts * (connect + read)
    with gunicorn(env, settings="tests.resilience.fault_settings") as base:
        files = f"{base}/api/v1/projects/{project.pk}/files/"
        base_time = baseline(lambda: requests.get(files, headers=auth, timeout=30).raise_for_status())

        def multipart(name: str):
            return timed_request("POST", files, headers=auth, files={"file": (name, b"hello world", "text/plain")})

        response, _ = multipart("before.txt")
        assert response.status_code == 201, response.text
        ready_id = response.json()["id"]
        start, _ = timed_request("POST", f"{files}uploads/", headers=auth, json={"name": "d.pdf", "size": 11})
        assert start.status_code == 201, start.text
        pending_id = start.json()["file"]["id"]

        timings: dict[str, list[float]] = {}
        for fault in ("refuse", "hang"):
            getattr(broken_s3, fault)()
            upload, upload_time = multipart(f"during-{fault}.txt")
            complete, complete_time = timed_request("POST", f"{files}{pending_id}/complete/", headers=auth)
            download, download_time = timed_request("GET", f"{files}{ready_id}/download/", headers=auth)
            timings[fault] = [round(t, 3) for t in (upload_time, complete_time, download_time)]
            for response in (upload, complete):
                assert response.status_code == 503, (fault, response.status_code, response.text)
                assert response.json()["code"] == "storage_unavailable"
                assert int(response.headers["Retry-After"]) > 0
            assert download.status_code == 302  # signed locally, no S3 call
            for elapsed in (upload_time, complete_time):
                assert_within(elapsed, waits=waits, base=base_time, what=(fault, timings[fault]))
            assert_within(download_time, waits=0, base=base_time, what=(fault, "download"))
        # Deleting answers at once: the object's removal is a task (retried until S3 is back; see
        # test_deleting_while_s3_is_down_answers_and_the_retried_task_removes_the_object).
        deleted, delete_time = timed_request("DELETE", f"{files}{ready_id}/", headers=auth)
        assert deleted.status_code == 204, deleted.text
        assert_within(delete_time, waits=0, base=base_time, what="delete")
        print("S3 down, request times (upload, complete, download) in s:", timings)

        with django_db_blocker.unblock():
            # Nothing recorded as uploaded that is not stored: the failed uploads left no row; the
            # direct upload is still pending (its reservation waits for complete/ or the stale job).
            assert list(File.objects.filter(project=project).values_list("name", "status")) == [("d.pdf", "pending")]
            assert storage_used_bytes(owner=owner) == 11

        broken_s3.restore()
        response, _ = multipart("after.txt")
        assert response.status_code == 201, response.text  # recovered without a restart
