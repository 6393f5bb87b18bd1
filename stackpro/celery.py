"""The Celery application: tasks are discovered in every installed app's ``tasks.py``.

The beat schedule comes from ``stackpro/schedule.py`` (the same list Zappa's ``events`` come from):
each entry runs ``stackpro.run_scheduled_job`` with a job name, so the job itself stays a plain
function that a Lambda scheduled event can call just as well.
"""

import os
from typing import Any

from celery import Celery

from .schedule import beat_schedule, run_job

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stackpro.settings.local")

# Every task publishes through core.tasks' rules: bounded retries, then inline (or a clear 503) when
# the broker is down, so a side effect queued after commit is never silently dropped.
TASK_CLASS = "core.tasks:ResilientTask"

app = Celery("stackpro", task_cls=TASK_CLASS)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = beat_schedule()
app.autodiscover_tasks()

# The console records every failed task (console/signals.py): connected with the app, which every
# process that runs tasks creates (a worker, the Lambda task handler, an eager call).
from console.signals import connect as _connect_console_signals  # noqa: E402

_connect_console_signals()


@app.task(name="stackpro.run_scheduled_job", ignore_result=True)
def run_scheduled_job(name: str) -> Any:
    """Run one job of stackpro/schedule.py by name (jobs are idempotent: a late or repeated run is safe)."""
    return run_job(name)
