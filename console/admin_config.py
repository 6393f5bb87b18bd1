"""The admin app with the console's site as ``admin.site`` (listed in place of django.contrib.admin).

Like ``SimpleAdminConfig``, start-up does not import every app's admin.py: the site does, the first
time anything reads its registry (console/sites.py)."""

from django.contrib.admin.apps import AdminConfig, SimpleAdminConfig


class ConsoleAdminConfig(AdminConfig):
    default_site = "console.sites.ConsoleAdminSite"

    def ready(self) -> None:
        SimpleAdminConfig.ready(self)  # the admin's checks, without AdminConfig's autodiscover()
