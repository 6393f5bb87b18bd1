"""What a cold start loads, through the packaged handler in an isolated interpreter.

A plain (on-demand) init and its first API request import neither Zappa's handler module (werkzeug,
boto3: core/lambda_handler.py serves REST requests itself) nor anymail's SES webhook (boto3) nor any
app's admin.py; the first admin page loads the admin (and, reversing URLs, every URL module) and
works; the first scheduled event loads Zappa's handler.

The stripe SDK, compiled with postponed annotations in the package (deploy/prebuild.py: ~50 ms of
every start), makes billing's calls against a fake Stripe as it does anywhere.

A SnapStart init reads the database once (stackpro.lambda_app.warm_database), through the packaged
handler in an isolated interpreter: the first request after a restore opens a new connection but does
not read the server's version and variables again (they are in the snapshot), while a plain on-demand
init leaves the database alone and its first request reads them. The warm-up itself, in process:
reads only, and a database that cannot answer costs nothing but the savings.

Init, and the snapshot after it, leave the first request only its own objects to collect, and keep
the answers to the type checks (``isinstance`` against an ABC) the warm-up ran.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.nothing_changed import nothing_changed
from tests.serverless.packaged import init_env, packaged_env, run_driver, write_settings
from tests.servers import ROOT

SERVER_DATA = "SELECT VERSION()"
DB = "connections['default']"
PLAN_AFTER_INIT = [
    {"eval": f"[setattr({DB}, 'force_debug_cursor', True), {DB}.queries_log.clear()]"},
    {"http": {"method": "GET", "path": "/api/v1/health/ready/"}},
    {"eval": f"[' '.join(q['sql'].split()) for q in {DB}.queries]"},
]


def after_init(init_type, plan, package_dir, runtime_dir, runtime_python, moto_endpoint, tmp_path) -> dict:
    """The driver's report of ``plan`` run after an init of ``init_type`` (after the snapshot hooks,
    as on a restore, for ``snap-start``; its first step is then the snapshot's); every step ok."""
    write_settings(package_dir, tmp_path, packaged_env(package_dir, moto_endpoint))
    snapshot = [{"snapshot": "as init left it"}] if init_type == "snap-start" else []
    report, _ = run_driver(runtime_python, package_dir, runtime_dir, tmp_path, snapshot + plan, init_env(init_type))
    assert all(step["ok"] for step in report["results"]), report["results"]
    return report


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.mysql
@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("mysql"), reason="needs MariaDB")
@pytest.mark.parametrize("init_type", ["snap-start", "on-demand"])
def test_a_restored_environment_does_not_read_the_server_data_again(
    init_type,
    package_dir,
    runtime_dir,
    runtime_python,
    moto_endpoint,
    tmp_path,
):
    steps = after_init(init_type, PLAN_AFTER_INIT, package_dir, runtime_dir, runtime_python, moto_endpoint, tmp_path)[
        "results"
    ]
    ready, queries = steps[-2], steps[-1]["result"]
    assert ready["status"] == 200, ready
    assert any(q.startswith("SET SESSION TRANSACTION ISOLATION LEVEL") for q in queries), queries  # a new connection
    assert any(q.startswith(SERVER_DATA) for q in queries) == (init_type == "on-demand"), queries


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("init_type", ["snap-start", "on-demand"])
def test_the_first_request_collects_only_its_own_garbage(
    init_type, package_dir, runtime_dir, runtime_python, moto_endpoint, tmp_path
):
    """Init ends with every object it built frozen and the collector's counts at zero, and so does the
    snapshot: a collection of the older generations, which init's (or Zappa's handler's) allocations
    had counted towards, would otherwise run during the first request (~1.5 ms here)."""
    plan = [{"eval": "[__import__('gc').isenabled(), __import__('gc').get_freeze_count() > 100_000]"}]
    report = after_init(init_type, plan, package_dir, runtime_dir, runtime_python, moto_endpoint, tmp_path)
    steps = report["results"]
    assert report["gc_counts"][1:] == [0, 0], report["gc_counts"]  # no collection since init's freeze
    if init_type == "snap-start":
        assert steps[0]["gc_counts"] == [0, 0, 0], steps[0]  # what the snapshot holds
    assert steps[-1]["result"] == [True, True]  # collecting again, init's objects frozen


# What collections.abc.Mapping's cache of negative answers ("NoneType is not a Mapping") holds in the
# snapshot: the names of the types (registering any ABC voids the cache; the next check empties it).
MAPPING_NEGATIVE_CACHE = (
    "sorted({ref().__name__ for ref in __import__('abc')._get_dump(__import__('collections.abc').abc.Mapping)[2]"
    " if ref() is not None})"
)


@pytest.mark.slow
@pytest.mark.integration
def test_the_snapshot_keeps_the_type_checks_the_warm_up_ran(
    package_dir, runtime_dir, runtime_python, moto_endpoint, tmp_path
):
    """The warm-up's SDK call answers the first send's ``isinstance(x, Mapping)`` checks ahead of it
    (its ``None``, ``str``, ``list``, the timeout...), but the tasks modules imported after it register
    ABCs (Celery's results and canvas), which voided those answers: the first send after a restore
    walked Mapping's subclass tree (~45 classes) six times more. Init imports first, then warms up."""
    steps = after_init(
        "snap-start",
        [{"eval": MAPPING_NEGATIVE_CACHE}],
        package_dir,
        runtime_dir,
        runtime_python,
        moto_endpoint,
        tmp_path,
    )["results"]
    assert {"NoneType", "str", "list", "Timeout"} <= set(steps[-1]["result"]), steps[-1]


LAZY = [
    "handler",
    "zappa.handler",
    "werkzeug",
    "boto3",
    "anymail.webhooks.amazon_ses",
    "console.admin",
    "djstripe.admin",
]
LOADED = f"[m for m in {LAZY!r} if m in __import__('sys').modules]"


@pytest.mark.slow
@pytest.mark.integration
def test_a_plain_cold_start_loads_the_admin_webhooks_and_zappas_handler_on_first_use(
    package_dir,
    runtime_dir,
    runtime_python,
    moto_endpoint,
    tmp_path,
):
    write_settings(package_dir, tmp_path, packaged_env(package_dir, moto_endpoint))
    plan = [
        {"http": {"method": "GET", "path": "/api/v1/health/"}},
        {"eval": LOADED},
        {"http": {"method": "GET", "path": "/admin/login/", "headers": {"Accept": "text/html"}}},
        {"eval": LOADED},
        {"event": {"detail-type": "Scheduled Event", "resources": ["arn:aws:events:us-east-1:1:rule/nothing"]}},
        {"eval": LOADED},
    ]
    report, _ = run_driver(runtime_python, package_dir, runtime_dir, tmp_path, plan, init_env("on-demand"))
    health, after_api, admin_page, after_admin, _, after_event = report["results"]
    assert health["status"] == 200 and after_api["result"] == [], (health, after_api)
    assert admin_page["status"] == 200 and "StackPro console" in admin_page["body"], admin_page
    # The admin's pages reverse URLs, which loads every URL module (the SES webhook's boto3 too).
    assert {"console.admin", "djstripe.admin"} <= set(after_admin["result"]), after_admin
    assert not {"handler", "zappa.handler", "werkzeug"} & set(after_admin["result"]), after_admin
    assert {"handler", "werkzeug", "boto3"} <= set(after_event["result"]), after_event  # Zappa's, for events


CLIENT = "__import__('billing.stripe_client', fromlist=['stripe_client'])"


@pytest.mark.slow
@pytest.mark.integration
def test_the_stripe_sdk_as_packaged_makes_billings_calls(
    package_dir,
    runtime_dir,
    runtime_python,
    moto_endpoint,
    tmp_path,
):
    from tests.fakes.stripe_server import FakeStripe

    fake = FakeStripe().start()
    try:
        price = fake.add_price("pro_monthly")
        customer = fake.add_customer(email="billing@example.com")
        subscription = fake.add_subscription(customer=customer["id"], price=price)
        stripe_env = {"STRIPE_API_BASE": fake.url, "STRIPE_LIVE_MODE": "false", "STRIPE_TEST_SECRET_KEY": "sk_test_x"}
        write_settings(package_dir, tmp_path, packaged_env(package_dir, moto_endpoint, stripe_env))
        session = (
            f"{CLIENT}.create_checkout_session(customer_id={customer['id']!r}, price_id={price['id']!r}, "
            "success_url='https://app.test/ok', cancel_url='https://app.test/no', client_reference_id='u1', "
            "metadata={'user_id': 'u1'}, idempotency_key='k1').url"
        )
        event = (
            "__import__('stripe').Event.construct_from({'id': 'evt_1', 'object': 'event', 'type': "
            "'customer.subscription.updated', 'data': {'object': {'id': 'sub_1', 'object': 'subscription', "
            "'items': {'object': 'list', 'data': [{'id': 'si_1', 'object': 'subscription_item'}]}}}}, 'k')"
            ".data.object['items'].data[0].id"
        )
        plan = [
            {"eval": f"{CLIENT}.find_price(lookup_key='pro_monthly').id"},
            {
                "eval": f"{CLIENT}.create_customer(email='new@example.com', name='N', metadata={{}}, idempotency_key='k0').id"
            },
            {"eval": session},
            {"eval": f"{CLIENT}.retrieve_subscription({subscription['id']!r}).status"},
            {"eval": f"[s.id for s in {CLIENT}.list_subscriptions(customer_id={customer['id']!r})]"},
            {"eval": event},
        ]
        report, _ = run_driver(runtime_python, package_dir, runtime_dir, tmp_path, plan, init_env("on-demand"))
    finally:
        fake.stop()
    steps = report["results"]
    assert all(step["ok"] for step in steps), steps
    found, created, url, status, listed, item = (step["result"] for step in steps)
    assert found == price["id"] and created.startswith("cus") and url.startswith("http"), steps
    assert (status, listed, item) == ("active", [subscription["id"]], "si_1")


@pytest.mark.django_db
def test_the_warm_up_reads_the_hot_requests_data_and_writes_nothing():
    from stackpro.lambda_app import warm_database

    with nothing_changed(storage=False), CaptureQueriesContext(connection) as captured:
        warm_database()
    statements = [" ".join(q["sql"].split()) for q in captured.captured_queries]
    assert len(statements) >= 5, statements  # the JWT's user, the projects page, plan, usage, conversation
    assert all(s.upper().startswith("SELECT") for s in statements), statements


WARM_UP = """
import django, logging
logging.basicConfig(level=logging.WARNING)
django.setup()
from stackpro.lambda_app import warm_database
warm_database()
print("init carried on")
"""


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root:@127.0.0.1:1/stackpro",  # nothing listens: refused at once
        "sqlite:///{tmp}/empty.sqlite3",  # no tables yet (the first deploy's init runs before migrate)
    ],
)
def test_a_database_that_cannot_answer_costs_the_warm_up_only(url, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "stackpro.settings.local",
        "DATABASE_URL": url.format(tmp=tmp_path),
        "DB_CONNECT_TIMEOUT": "2",
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", WARM_UP], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "init carried on" in result.stdout
    assert "database warm-up skipped" in result.stderr, result.stderr[-3000:]
