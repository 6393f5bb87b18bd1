"""Settings for the server of the harness' self-test: test settings plus tests/fuzz/urls.py."""

from stackpro.settings.test import *  # noqa: F403

ROOT_URLCONF = "tests.fuzz.urls"
