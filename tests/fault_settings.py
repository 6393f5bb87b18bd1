"""Settings for servers the fault tests start: the test settings plus core's throwaway views."""

from stackpro.settings.test import *  # noqa: F403

ROOT_URLCONF = "tests.core.urls"
