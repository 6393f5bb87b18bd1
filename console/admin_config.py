"""The admin app with the console's site as ``admin.site`` (listed in place of django.contrib.admin)."""

from django.contrib.admin.apps import AdminConfig


class ConsoleAdminConfig(AdminConfig):
    default_site = "console.sites.ConsoleAdminSite"
