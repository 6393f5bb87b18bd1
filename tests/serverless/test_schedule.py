"""One schedule drives both Celery beat and Zappa events; every job and entry point imports."""

from __future__ import annotations

import inspect
import json
from datetime import timedelta
from importlib import import_module

import pytest
from celery.schedules import crontab

from stackpro import lambda_tasks
from stackpro.celery import app
from stackpro.schedule import JOBS_BY_NAME, SCHEDULE, celery_schedule, import_job
from tests.servers import ROOT

ZAPPA = json.loads((ROOT / "zappa_settings.json").read_text())
STAGES = ("dev", "prod")


def import_dotted(path: str):
    module, _, attr = path.rpartition(".")
    return getattr(import_module(module), attr)


def test_the_schedule_names_every_contract_job_once():
    assert sorted(job.path for job in SCHEDULE) == sorted(
        [
            "accounts.jobs.flush_expired_tokens",
            "projects.jobs.cleanup_stale_uploads",
            "billing.jobs.sync_stripe",
            "notifications.jobs.send_daily_digests",
            "notifications.jobs.send_weekly_digests",
            "notifications.jobs.purge_old_notifications",
            "notifications.jobs.requeue_stalled_deliveries",
            "core.jobs.purge_idempotency_keys",
            "core.jobs.purge_throttle_counters",
        ]
    )
    assert len(JOBS_BY_NAME) == len(SCHEDULE)


@pytest.mark.parametrize("job", SCHEDULE, ids=lambda job: job.name)
def test_every_job_imports_and_takes_no_arguments(job):
    function = import_job(job.path)
    assert callable(function)
    required = [p for p in inspect.signature(function).parameters.values() if p.default is p.empty]
    assert required == []


@pytest.mark.parametrize("stage", STAGES)
def test_zappa_events_match_the_schedule(stage):
    events = ZAPPA[stage]["events"]
    scheduled = {e["function"]: e["expression"] for e in events if "expression" in e}
    expected = {f"stackpro.lambda_tasks.{job.name}": job.expression for job in SCHEDULE}
    assert scheduled == expected
    for function in scheduled:
        entry_point = import_dotted(function)
        assert entry_point is getattr(lambda_tasks, function.rsplit(".", 1)[1])
        # Zappa passes (event, context); a dash would break its rule-name parsing.
        assert "-" not in function and len(function) < 64
        assert inspect.signature(entry_point).bind({}, None)


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_consumes_its_task_queue(stage):
    sources = [e for e in ZAPPA[stage]["events"] if "event_source" in e]
    assert len(sources) == 1
    assert sources[0]["function"] == "stackpro.lambda_tasks.handle_sqs"
    assert sources[0]["event_source"]["arn"].startswith("arn:aws:sqs:")
    assert sources[0]["event_source"]["arn"].endswith(f"stackpro-{stage}-tasks")
    assert import_dotted(sources[0]["function"]) is lambda_tasks.handle_sqs


def test_celery_beat_runs_every_job_by_name_on_the_same_schedule():
    beat = app.conf.beat_schedule
    assert set(beat) == set(JOBS_BY_NAME)
    for job in SCHEDULE:
        entry = beat[job.name]
        assert entry["task"] == "stackpro.run_scheduled_job"
        assert entry["task"] in app.tasks
        assert tuple(entry["args"]) == (job.name,)
        assert entry["schedule"] == celery_schedule(job.expression)


@pytest.mark.parametrize(
    "expression,expected",
    [
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(15 minutes)", timedelta(minutes=15)),
        ("cron(17 3 * * ? *)", crontab(minute="17", hour="3")),
        ("cron(0 7 ? * MON *)", crontab(minute="0", hour="7", day_of_week="1")),
        ("cron(0 7 ? * 2 *)", crontab(minute="0", hour="7", day_of_week="1")),  # EventBridge 2 = Monday
        ("cron(0 0 1 * ? *)", crontab(minute="0", hour="0", day_of_month="1")),
    ],
)
def test_eventbridge_expressions_translate_to_celery(expression, expected):
    assert celery_schedule(expression) == expected


@pytest.mark.parametrize("expression", ["cron(0 7 * * MON *)", "cron(0 7 * * ? 2027)", "every day", "rate(1 week)"])
def test_unsupported_expressions_are_refused(expression):
    with pytest.raises(ValueError):
        celery_schedule(expression)


@pytest.mark.django_db
def test_the_beat_task_runs_a_job_by_name(user):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
    from rest_framework_simplejwt.tokens import RefreshToken

    from stackpro.celery import run_scheduled_job

    refresh = RefreshToken.for_user(user)
    OutstandingToken.objects.filter(jti=refresh["jti"]).update(expires_at="2000-01-01T00:00:00Z")
    assert run_scheduled_job.delay("flush_expired_tokens").get() == 1
    with pytest.raises(KeyError):
        run_scheduled_job.delay("no_such_job").get()


@pytest.mark.parametrize("stage", STAGES)
def test_zappa_stage_settings(stage):
    base = ZAPPA["base"]
    config = {**base, **ZAPPA[stage]}
    assert config["extends"] == "base"
    assert config["runtime"] == "python3.12"  # Amazon Linux 2023 (glibc 2.34); SnapStart needs 3.12+
    assert config["app_function"] == "stackpro.lambda_app.application"  # init warm-up, SnapStart hooks
    assert config["aws_environment_variables"]["INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT"] == "true"
    assert config["django_settings"] == "stackpro.settings.production"
    assert config["debug"] is False and config["log_level"] == "INFO"
    assert config["keep_warm"] is True and config["xray_tracing"] is True
    assert config["use_precompiled_packages"] is False
    assert config["timeout_seconds"] <= 30  # API Gateway gives up at 29 s
    # boto3/botocore/cryptography ship (docs/serverless.md); "docs" is excluded at the top only
    # (exclude matches names at any depth: botocore has a docs package).
    assert {"tests", "bench", ".venv", "pytest", "moto", "ruff", "mypy"} <= set(config["exclude"])
    assert not {"boto3", "botocore", "cryptography", "docs"} & set(config["exclude"])
    assert "docs" in config["exclude_glob"]
    env = config["environment_variables"]
    assert env["DB_DRIVER"] == "pymysql"
    assert env["CELERY_BROKER_URL"] == "sqs://"
    secrets = {"SECRET_KEY", "JWT_SIGNING_KEY", "DATABASE_URL", "STRIPE_LIVE_SECRET_KEY", "STRIPE_TEST_SECRET_KEY",
               "ANTHROPIC_API_KEY", "ANYMAIL_WEBHOOK_SECRET", "AWS_SECRET_ACCESS_KEY"}  # fmt: skip
    assert not secrets & set(env), "secrets belong in the Lambda configuration, not in git"
    assert callable(import_dotted(config["prebuild_script"]))


def test_prod_uses_snapstart_with_few_retained_versions():
    """SnapStart caches a snapshot per published version: keep only the live one and one to roll
    back to (docs/cost.md). dev stays on plain cold starts."""
    prod, dev = {**ZAPPA["base"], **ZAPPA["prod"]}, {**ZAPPA["base"], **ZAPPA["dev"]}
    assert prod["snap_start"] == "PublishedVersions" and prod["num_retained_versions"] == 2
    assert "snap_start" not in dev and "provisioned_concurrency" not in prod
