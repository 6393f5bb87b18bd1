"""Settings for servers the resilience fault tests start: test settings plus the resilience views."""

from stackpro.settings.test import *  # noqa: F403

ROOT_URLCONF = "tests.resilience.urls"
