"""The scheduled jobs, defined once: Celery beat (servers) and Zappa ``events`` (Lambda) both come from here.

Each job is a plain function with no arguments in ``<app>/jobs.py``. ``expression`` is an
EventBridge schedule expression (``rate(...)`` or ``cron(min hour day-of-month month day-of-week year)``,
UTC); ``celery_schedule`` turns it into the equivalent Celery beat schedule, so the two cannot drift.
``tests/serverless/test_schedule.py`` checks zappa_settings.json and the beat schedule against this list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from typing import Any

from celery.schedules import crontab


@dataclass(frozen=True)
class Job:
    name: str  # a Python identifier: the Zappa wrapper in stackpro.lambda_tasks has this name
    path: str  # dotted path of the plain function
    expression: str  # EventBridge schedule expression, UTC
    description: str = ""


SCHEDULE: tuple[Job, ...] = (
    Job(
        "flush_expired_tokens",
        "accounts.jobs.flush_expired_tokens",
        "cron(17 3 * * ? *)",
        "Delete expired refresh tokens and their blacklist rows.",
    ),
    Job(
        "cleanup_stale_uploads",
        "projects.jobs.cleanup_stale_uploads",
        "rate(1 hour)",
        "Delete pending direct uploads that were never completed.",
    ),
    Job(
        "sync_stripe",
        "billing.jobs.sync_stripe",
        "cron(40 2 * * ? *)",
        "Stripe drift repair: re-read active subscriptions and customers.",
    ),
    Job(
        "send_daily_digests",
        "notifications.jobs.send_daily_digests",
        "cron(0 7 * * ? *)",
        "Email daily-digest users their unread notifications.",
    ),
    Job(
        "send_weekly_digests",
        "notifications.jobs.send_weekly_digests",
        "cron(0 7 ? * MON *)",
        "Email weekly-digest users their unread notifications.",
    ),
    Job(
        "purge_old_notifications",
        "notifications.jobs.purge_old_notifications",
        "cron(30 4 * * ? *)",
        "Delete read notifications past the retention age.",
    ),
    Job(
        "requeue_stalled_deliveries",
        "notifications.jobs.requeue_stalled_deliveries",
        "rate(10 minutes)",
        "Re-queue emails whose send task never ran or whose worker died.",
    ),
    Job(
        "purge_idempotency_keys",
        "core.jobs.purge_idempotency_keys",
        "cron(50 3 * * ? *)",
        "Delete Idempotency-Key records past their 24 h life.",
    ),
    Job(
        "purge_throttle_counters",
        "core.jobs.purge_throttle_counters",
        "rate(1 hour)",
        "Delete throttle counters of past windows (the database throttle store).",
    ),
)

JOBS_BY_NAME: dict[str, Job] = {job.name: job for job in SCHEDULE}

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$")
_DAYS = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}


def get_job(name: str) -> Job:
    try:
        return JOBS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"no scheduled job named {name!r}") from None


def import_job(path: str) -> Any:
    module_path, _, attr = path.rpartition(".")
    return getattr(import_module(module_path), attr)


def run_job(name: str) -> Any:
    """Import and run one job by name; returns what it returns (a count, by convention)."""
    return import_job(get_job(name).path)()


def celery_schedule(expression: str) -> timedelta | crontab:
    """The Celery beat equivalent of an EventBridge expression (the subset we use: rate, cron without year)."""
    rate = _RATE.match(expression)
    if rate:
        amount, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        return timedelta(**{f"{unit}s": amount})
    cron = _CRON.match(expression)
    if not cron:
        raise ValueError(f"unsupported schedule expression: {expression!r}")
    minute, hour, day_of_month, month, day_of_week, year = cron.groups()
    if year != "*":
        raise ValueError(f"a year field is not supported: {expression!r}")
    if "?" not in (day_of_month, day_of_week):
        raise ValueError(f"EventBridge needs '?' in day-of-month or day-of-week: {expression!r}")
    day_of_week = "*" if day_of_week == "?" else _celery_day_of_week(day_of_week)
    day_of_month = "*" if day_of_month == "?" else day_of_month
    return crontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month, day_of_week=day_of_week)


def _celery_day_of_week(field: str) -> str:
    # EventBridge numbers days 1-7 from Sunday; Celery 0-6 from Sunday. Names are unambiguous.
    parts = []
    for part in field.split(","):
        if part.upper() in _DAYS:
            parts.append(str(_DAYS[part.upper()]))
        elif part.isdigit():
            parts.append(str(int(part) - 1))
        else:
            raise ValueError(f"unsupported day-of-week field: {field!r}")
    return ",".join(parts)


def beat_schedule() -> dict[str, dict[str, Any]]:
    """CELERY_BEAT_SCHEDULE: one entry per job, each running ``stackpro.run_scheduled_job`` with the job's name."""
    return {
        job.name: {
            "task": "stackpro.run_scheduled_job",
            "schedule": celery_schedule(job.expression),
            "args": (job.name,),
            "options": {"expires": 60 * 60},
        }
        for job in SCHEDULE
    }


def zappa_events() -> list[dict[str, str]]:
    """The Zappa ``events`` entries for the schedule (the SQS event source is added per stage)."""
    return [
        {
            "function": f"stackpro.lambda_tasks.{job.name}",
            "expression": job.expression,
            "description": job.description,
        }
        for job in SCHEDULE
    ]
