"""Start-up stays light: what a cold start imports must not include the anthropic SDK or its HTTP
client httpx2 (~1 s of imports, docs/performance.md), which assistant.claude loads on its first call;
nor botocore/boto3 (the S3 client's config is built with the storage: core/s3.py), nor Celery (its
app is created when a tasks module is first imported: core/tasks.py), nor any app's admin.py or
anymail's SES webhook (loaded with the admin's and the webhooks' URLs, on first use)."""

import os
import subprocess
import sys

CODE = """
import sys, django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns  # every view module, as the first request loads them
import assistant.claude, assistant.services
print("anthropic" in sys.modules or "httpx2" in sys.modules)
"""


def test_django_setup_and_the_urlconf_do_not_import_the_anthropic_sdk() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "stackpro.settings.test"}
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip().splitlines()[-1] == "False"


LATER = [
    "botocore",
    "boto3",
    "werkzeug",
    "celery",
    "kombu",
    "console.admin",
    "djstripe.admin",
    "anymail.webhooks.amazon_ses",
]
LATER_CODE = f"""
import sys, django
django.setup()
from django.urls import get_resolver, resolve
get_resolver().url_patterns
resolve("/api/v1/projects/")  # an API request's resolution tries the admin's and webhooks' prefixes
print([m for m in {LATER!r} if m in sys.modules])
from django.urls import reverse
reverse("admin:index")  # a reverse loads every URL module, and the admin's registrations with it
from django.contrib import admin
print(sorted(m for m in ("console.admin", "djstripe.admin") if m in sys.modules), len(admin.site._registry) > 50)
"""


def test_start_up_leaves_botocore_the_admin_and_the_webhooks_to_their_first_use() -> None:
    for module in ("stackpro.settings.test", "stackpro.settings.production"):
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": module, "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "x"}
        env["AWS_STORAGE_BUCKET_NAME"] = "a-bucket"  # S3 storage configured, as on Lambda
        result = subprocess.run([sys.executable, "-c", LATER_CODE], capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stderr[-3000:]
        assert result.stdout.strip().splitlines()[-2:] == ["[]", "['console.admin', 'djstripe.admin'] True"], (
            module,
            result.stdout,
        )


TASKS_CODE = """
import django, sys
django.setup()
from projects.tasks import storage_delete_task  # what a service does when it first queues work
from celery import current_app
from celery.signals import task_failure
from core.tasks import ResilientTask
print(storage_delete_task.app.main, storage_delete_task.app is current_app._get_current_object(),
      isinstance(storage_delete_task.app.tasks[storage_delete_task.name], ResilientTask),
      any("console" in repr(r) for r in task_failure.receivers))
"""


def test_the_first_tasks_module_creates_the_projects_app_and_binds_its_tasks_to_it() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "stackpro.settings.test"}
    result = subprocess.run([sys.executable, "-c", TASKS_CODE], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    # Ours (not Celery's default app), current, its tasks ResilientTasks, failed tasks recorded.
    assert result.stdout.strip().splitlines()[-1] == "stackpro True True True"


def test_the_first_call_imports_it(settings) -> None:
    from assistant import claude

    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    claude._client.cache_clear()
    assert type(claude.get_client()).__module__.startswith("anthropic")
    assert "anthropic" in sys.modules


def test_a_server_worker_imports_it_as_it_starts() -> None:
    """gunicorn's post_worker_init (deploy/gunicorn_conf.py): a long-lived worker pays the import at
    boot, not in its first assistant send."""
    code = (
        "import sys, django; django.setup(); from deploy import gunicorn_conf;"
        "before = 'anthropic' in sys.modules; gunicorn_conf.post_worker_init(None);"
        "print(before, 'anthropic' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "stackpro.settings.test"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip().splitlines()[-1] == "False True"
