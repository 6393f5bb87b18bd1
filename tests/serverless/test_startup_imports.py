"""Start-up stays light: what a cold start imports must not include the anthropic SDK or its HTTP
client httpx2 (~1 s of imports, docs/performance.md), which assistant.claude loads on its first call."""

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
