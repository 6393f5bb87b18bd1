"""The database down: 503 JSON with Retry-After within the configured timeouts, nothing half-written
by the writes caught in the outage, and the service recovers without a restart.

A real gunicorn runs against the MariaDB test database through a proxy the test breaks on purpose:
REFUSE (the port closed), HANG (open connections dropped, new ones accepted and never answered), and
STALL in the middle of a write's transaction on the live pooled connection (the proxy holds the
transaction's COMMIT: the driver's read timeout is what ends the request). Each outage meets a read
and three writes (register, project create, direct-upload start); afterwards no row of those writes
exists, and the same writes succeed once.
"""

from __future__ import annotations

import os
import uuid

import pytest
from django.db import connection

from tests.fixtures.moto import ACCESS_KEY, REGION, SECRET_KEY, moto_s3_server  # noqa: F401
from tests.servers import gunicorn, http
from tests.support.tcp_proxy import FaultyProxy
from tests.timing import assert_within, baseline, timed

pytestmark = [
    # Committed rows the server process can read (the marker also makes pytest-django set the test
    # database up when this module runs alone).
    pytest.mark.django_db(transaction=True),
    pytest.mark.mysql,
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("mysql"), reason="needs MariaDB"),
]

CONNECT_TIMEOUT = READ_TIMEOUT = 2  # DB_CONNECT_TIMEOUT, DB_READ_TIMEOUT, DB_WRITE_TIMEOUT of the server
PASSWORD = "a-Long-and-Unusual-passphrase-42"


def _mysqlclient_installed() -> bool:
    import importlib.util

    spec = importlib.util.find_spec("MySQLdb")
    return spec is not None and "pymysql" not in (spec.origin or "")


class Api:
    """The calls of the test, against the server, with the owner's token."""

    def __init__(self, base: str, token: str, project_id: str) -> None:
        self.base, self.auth, self.project_id = base, {"Authorization": f"Bearer {token}"}, project_id

    def read(self):
        return http("GET", f"{self.base}/api/v1/test/users/", timeout=30)

    def ready(self):
        return http("GET", f"{self.base}/api/v1/health/ready/", timeout=30)

    def register(self, email: str):
        body = {"email": email, "password": PASSWORD, "name": "Outage"}
        return http("POST", f"{self.base}/api/v1/auth/register/", body=body, timeout=30)

    def create_project(self, name: str):
        return http("POST", f"{self.base}/api/v1/projects/", body={"name": name}, headers=self.auth, timeout=30)

    def start_upload(self, name: str):
        body = {"name": name, "size": 11, "content_type": "application/pdf"}
        url = f"{self.base}/api/v1/projects/{self.project_id}/files/uploads/"
        return http("POST", url, body=body, headers=self.auth, timeout=30)

    def writes(self, tag: str) -> dict:
        """The three writes, each with names unique to ``tag``: name -> (call, argument)."""
        return {
            "register": (self.register, f"outage-{tag}@example.com"),
            "project": (self.create_project, f"Outage {tag}"),
            "upload": (self.start_upload, f"outage-{tag}.pdf"),
        }


def rows_of(tag: str) -> dict[str, int]:
    """What the writes tagged ``tag`` left in the database (read past the proxy)."""
    from accounts.models import AuthEvent, User
    from notifications.models import EmailDelivery
    from projects.models import Activity, File, Membership, Project

    email, project, file = f"outage-{tag}@example.com", f"Outage {tag}", f"outage-{tag}.pdf"
    return {
        "users": User.objects.filter(email=email).count(),
        "auth_events": AuthEvent.objects.filter(user__email=email).count()
        + AuthEvent.objects.filter(email=email).count(),
        "emails": EmailDelivery.objects.filter(to_email=email).count(),
        "projects": Project.objects.filter(name=project).count(),
        "memberships": Membership.objects.filter(project__name=project).count(),
        "activities": Activity.objects.filter(project__name=project).count(),
        "files": File.objects.filter(name=file).count(),
    }


NOTHING = dict.fromkeys(("users", "auth_events", "emails", "projects", "memberships", "activities", "files"), 0)


def assert_unavailable(response, what) -> None:
    status, headers, body = response
    assert status == 503, (what, status, body)
    assert body["code"] == "service_unavailable", (what, body)
    assert int(headers["Retry-After"]) > 0


# The first row each write inserts; the proxy stalls the COMMIT that follows it (earlier transactions
# of the same request, such as the upload's purge of expired forms, commit normally).
FIRST_INSERT = {
    "register": b"INSERT INTO `accounts_user`",
    "project": b"INSERT INTO `projects_project`",
    "upload": b"INSERT INTO `projects_file`",
}


@pytest.mark.parametrize("driver", ["mysqlclient", "pymysql"])
def test_refused_hanging_and_stalled_database_then_recovery(moto_s3_server, driver):  # noqa: F811
    if driver == "mysqlclient" and not _mysqlclient_installed():
        if os.environ.get("CI"):
            pytest.fail("CI must test mysqlclient: install requirements/mysql.txt (make test does)")
        pytest.skip("mysqlclient not installed")
    from rest_framework_simplejwt.tokens import AccessToken

    from tests.factories import UserFactory
    from tests.projects.factories import ProjectFactory

    run = uuid.uuid4().hex[:8]
    owner = UserFactory(email=f"outage-owner-{run}@example.com")
    project = ProjectFactory(owner=owner, name=f"Uploads {run}")
    token = str(AccessToken.for_user(owner))
    bucket = f"outage-{run}"
    moto_s3_server.client().create_bucket(Bucket=bucket)

    settings_dict = connection.settings_dict
    proxy = FaultyProxy(settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 3306)).start()
    test_name = settings_dict["TEST"]["NAME"]  # the test database pytest-django created
    env = {
        "DATABASE_URL": f"mysql://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}"
        f"@127.0.0.1:{proxy.port}/{test_name}",
        "DB_DRIVER": driver,
        "DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        "DB_READ_TIMEOUT": str(READ_TIMEOUT),
        "DB_WRITE_TIMEOUT": str(READ_TIMEOUT),
        "CACHE_KEY_PREFIX": f"outage-{run}",  # fresh throttle counters
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": moto_s3_server.endpoint_url,
        "AWS_S3_REGION_NAME": REGION,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }
    tags: list[str] = []  # the writes of each phase, by the tag in their names
    timings: dict[str, dict[str, float]] = {}  # printed with -s (docs/reliability.md)
    try:
        with gunicorn(env) as base:
            api = Api(base, token, str(project.pk))
            assert api.read()[0] == 200
            # Healthy first: every write works, and how long such a request takes on this machine now.
            base_time = baseline(lambda: api.read())
            for name, (call, argument) in api.writes(f"{run}-healthy").items():
                response, elapsed = timed(call, argument)
                assert response[0] == 201, (name, response)
                base_time = max(base_time, elapsed)
            tags.append(f"{run}-healthy")

            # REFUSE and HANG: the read, readiness, and each write answer 503 within the timeouts.
            waits = {FaultyProxy.REFUSE: 0.0, FaultyProxy.HANG: CONNECT_TIMEOUT + READ_TIMEOUT}
            for mode in (FaultyProxy.REFUSE, FaultyProxy.HANG):
                proxy.set_mode(mode)
                tag = f"{run}-{mode}"
                tags.append(tag)
                response, elapsed = timed(api.read)
                timings[mode] = {"read": round(elapsed, 3)}
                assert_unavailable(response, mode)
                assert_within(elapsed, waits=waits[mode], base=base_time, what=(mode, "read"))
                for name, (call, argument) in api.writes(tag).items():
                    response, elapsed = timed(call, argument)
                    timings[mode][name] = round(elapsed, 3)
                    assert_unavailable(response, (mode, name))
                    assert_within(elapsed, waits=waits[mode], base=base_time, what=(mode, name))
                (status, _, body), elapsed = timed(api.ready)
                assert status == 503 and body["checks"]["database"] == "unavailable", (mode, body)
                assert_within(elapsed, waits=waits[mode], base=base_time, what=(mode, "ready"))
                assert http("GET", f"{base}/api/v1/health/", timeout=5)[0] == 200  # liveness needs no database
                proxy.heal()
                assert api.read()[0] == 200, mode  # back without a restart

            # STALL: each write's transaction stalls at its COMMIT on the live pooled connection, after
            # its rows went out; the driver's read timeout ends the request.
            tag = f"{run}-stall"
            tags.append(tag)
            for name, (call, argument) in api.writes(tag).items():
                assert api.read()[0] == 200  # the worker's pooled connection is open and fresh
                proxy.sent.clear()
                proxy.record = True
                proxy.stall_on(b"COMMIT", after=FIRST_INSERT[name])  # the COMMIT of the write's own transaction
                response, elapsed = timed(call, argument)
                proxy.record = False
                timings.setdefault("stall", {})[name] = round(elapsed, 3)
                assert proxy.stalled.is_set(), name
                assert FIRST_INSERT[name] in proxy.sent, name  # its rows were written, then stalled uncommitted
                assert_unavailable(response, ("stall", name))
                assert elapsed >= READ_TIMEOUT * 0.9, (name, elapsed)  # it did wait on the stalled read
                # The COMMIT's read timeout; the driver then drops the connection (the ROLLBACK fails
                # at once), and Django's Atomic.__exit__ reconnects to restore autocommit: a new
                # connection the STALL holds too, until the connect timeout.
                assert_within(elapsed, waits=READ_TIMEOUT + CONNECT_TIMEOUT, base=base_time, what=("stall", name))
                proxy.heal()  # the held connection closes: the server rolls the transaction back

            print(driver, f"baseline {base_time:.3f} s;", "request times (s):", timings)
            for tag in tags[1:]:
                assert rows_of(tag) == NOTHING, tag  # nothing half-written by any outage
            assert rows_of(tags[0])["projects"] == 1

            # The writes refused during the outage work now, once each.
            for name, (call, argument) in api.writes(f"{run}-stall").items():
                response = call(argument)
                assert response[0] == 201, (name, response)
            after = rows_of(f"{run}-stall")
            assert after["users"] == after["projects"] == after["files"] == after["emails"] == 1, after
            assert after["memberships"] == 1 and after["activities"] == 1, after
    finally:
        proxy.stop()
