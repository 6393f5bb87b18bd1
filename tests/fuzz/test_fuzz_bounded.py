"""The bounded fuzz run of CI: the whole API from its schema, fixed cases, two users, no failures.

Same harness as ``make fuzz`` (tests/fuzz/harness.py) against a real gunicorn on the pytest database,
in deterministic mode with ``FUZZ_MAX_EXAMPLES`` cases per operation (default 5). A second test
checks the harness itself on throwaway resources: a scoped one passes, a leaky one is caught.
"""

import os

import pytest

from notifications.models import Notification
from tests.fuzz.harness import (
    LOGIN_PATH,
    PHASES,
    cross_user_pass,
    ensure_plan_catalogue,
    fuzz_services,
    fuzz_users,
    pytest_database_url,
    run_schemathesis,
    seed_objects,
    server_env,
    write_auth_file,
)
from tests.servers import gunicorn

pytestmark = [pytest.mark.slow, pytest.mark.integration]

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "5"))
PHASES = os.environ.get("FUZZ_PHASES", PHASES)  # e.g. "fuzzing,stateful" if coverage gets too slow for CI


def test_bounded_fuzz_run(transactional_db, tmp_path):
    ensure_plan_catalogue()
    alice, bob = users = fuzz_users()
    seeded = seed_objects(users)
    auth_file = write_auth_file(tmp_path / "auth.json", users, login_path=LOGIN_PATH)
    with (
        fuzz_services(tmp_path) as upstreams,
        gunicorn(
            server_env(pytest_database_url(), upstreams),
            settings="stackpro.settings.test",
            workers=2,
            timeout=30,
            log_path=tmp_path / "server.log",
        ) as base,
    ):
        result = run_schemathesis(
            base,
            auth_file,
            max_examples=MAX_EXAMPLES,
            phases=PHASES,
            deterministic=True,
            report_dir=tmp_path / "report",
            seeded=seeded.ids,
        )
        crossings = [cross_user_pass(base, alice, bob), cross_user_pass(base, bob, alice)]
    summary = result.summary()
    print("bounded fuzz run:", summary)
    print("cross-user:", sum(len(c.objects) for c in crossings), "objects,", sum(c.probes for c in crossings), "probes")
    assert result.exit_code == 0, result.output[-6000:]
    assert summary["failures"] == [] and summary["errors"] == [], summary
    assert summary["operations_tested"] == summary["operations_total"] > 0, summary  # every operation covered
    assert summary["requests"] >= summary["operations_total"]
    assert [v for c in crossings for v in c.violations] == []


def test_the_harness_passes_scoped_objects_and_catches_a_leak(transactional_db, tmp_path):
    alice, bob = users = fuzz_users()
    owners = {u.name: u for u in users}
    from django.contrib.auth import get_user_model

    for name, count in (("alice", 2), ("bob", 1)):  # objects to reach before any fuzzing
        owner = get_user_model().objects.get(email=owners[name].email)
        for n in range(count):
            Notification.objects.create(user=owner, category="product", title=f"{name} {n}")
    auth_file = write_auth_file(tmp_path / "auth.json", users)
    with gunicorn(server_env(pytest_database_url()), settings="tests.fuzz.demo_settings", workers=2) as base:
        clean = run_schemathesis(
            base,
            auth_file,
            max_examples=MAX_EXAMPLES,
            deterministic=True,
            report_dir=tmp_path / "clean",
            extra_args=["--include-path-regex", "test-fuzz"],
        )
        scoped = cross_user_pass(base, alice, bob)
    print("harness self-test:", clean.summary(), "cross-user probes:", scoped.probes, "objects:", len(scoped.objects))
    assert clean.exit_code == 0, clean.output[-6000:]
    assert clean.summary()["operations_tested"] == 6, clean.summary()  # list, create, get, put, patch, delete
    assert clean.report["phases"]["stateful"]["status"] == "success", clean.report["phases"]
    assert len(scoped.objects) >= 2 and scoped.probes >= 8 and scoped.violations == [], scoped

    leaky_env = server_env(pytest_database_url(), {"FUZZ_DEMO_LEAKY": "1"})
    with gunicorn(leaky_env, settings="tests.fuzz.demo_settings", workers=2) as base:
        leaky = cross_user_pass(base, alice, bob)
    assert any(v.startswith("GET /api/v1/test-fuzz/leaky-notes/") for v in leaky.violations), leaky
    # Only the leaky route: the scoped ones still answer bob 404 and kept alice's objects unchanged.
    assert all("/leaky-notes/" in v for v in leaky.violations), leaky.violations
