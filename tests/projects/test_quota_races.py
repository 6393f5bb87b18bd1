"""Concurrent requests must not overshoot plan limits. Real threads, real MariaDB row locks
(SQLite cannot lock rows, so these run only with DATABASE_URL=mysql://...)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from projects.models import Activity, File, Invitation, Project, Verb
from tests.conftest import client_for
from tests.factories import UserFactory

from .factories import FileFactory, ProjectFactory

MB = 1024 * 1024

pytestmark = [
    pytest.mark.mysql,
    pytest.mark.integration,
    pytest.mark.skipif(
        "mysql" not in __import__("django.conf", fromlist=["settings"]).settings.DATABASES["default"]["ENGINE"],
        reason="needs MariaDB: SQLite has no row locks",
    ),
]


def run_concurrently(n, fn):
    barrier = threading.Barrier(n)

    def worker(i):
        try:
            barrier.wait(timeout=10)
            return fn(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(worker, range(n)))


@pytest.mark.django_db(transaction=True)
def test_concurrent_direct_uploads_do_not_overshoot_storage(s3):
    owner = UserFactory()
    project = ProjectFactory(owner=owner)
    FileFactory(project=project, size=100 * MB - 3 * MB)  # room for exactly three 1 MB files
    clients = [client_for(owner) for _ in range(8)]
    url = f"/api/v1/projects/{project.pk}/files/uploads/"

    statuses = run_concurrently(8, lambda i: clients[i].post(url, {"name": f"f{i}.bin", "size": MB}).status_code)

    assert sorted(statuses) == [201, 201, 201, 402, 402, 402, 402, 402]
    assert sum(File.objects.filter(project__owner=owner).values_list("size", flat=True)) == 100 * MB


@pytest.mark.django_db(transaction=True)
def test_concurrent_project_creation_stops_at_the_plan_limit():
    owner = UserFactory()
    clients = [client_for(owner) for _ in range(6)]

    statuses = run_concurrently(6, lambda i: clients[i].post("/api/v1/projects/", {"name": f"P{i}"}).status_code)

    assert sorted(statuses) == [201, 201, 201, 402, 402, 402]
    assert Project.objects.filter(owner=owner).count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_invitations_stop_at_the_member_limit():
    owner = UserFactory()
    project = ProjectFactory(owner=owner)
    clients = [client_for(owner) for _ in range(5)]
    url = f"/api/v1/projects/{project.pk}/members/"

    statuses = run_concurrently(
        5, lambda i: clients[i].post(url, {"email": f"p{i}@example.com", "role": "viewer"}).status_code
    )

    assert sorted(statuses) == [201, 201, 402, 402, 402]  # owner + 2 pending = 3
    # the rows agree with the answers: two invitations, each logged once, for two of the five addresses
    invited = sorted(Invitation.objects.filter(project=project).values_list("email", flat=True))
    assert len(invited) == 2 and set(invited) <= {f"p{i}@example.com" for i in range(5)}
    logged = Activity.objects.filter(project=project, verb=Verb.MEMBER_INVITED)
    assert sorted(a.data["email"] for a in logged) == invited
    assert project.memberships.count() == 1
