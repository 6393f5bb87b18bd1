"""Settings for servers the resilience fault tests start: test settings plus the resilience views."""

from stackpro.settings.test import *  # noqa: F403

ROOT_URLCONF = "tests.resilience.urls"

# FAULT_TASKS_EAGER=0: tasks are queued (in memory, nobody runs them) instead of run inside the
# request, as on a real deployment whose worker is elsewhere — so a request's latency under a fault
# is its own, not that of a retried cleanup task running inline.
CELERY_TASK_ALWAYS_EAGER = env.bool("FAULT_TASKS_EAGER", default=True)  # noqa: F405
EMAIL_BACKEND = env("FAULT_EMAIL_BACKEND", default=EMAIL_BACKEND)  # noqa: F405 — e.g. anymail's SES
