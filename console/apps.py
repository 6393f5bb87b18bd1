"""App configuration for the staff console (the Django admin as the place staff run the business)."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Staff console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from core.registry import register_eraser

        from . import gdpr, metrics, panels, roles, signals

        register_eraser("console", gdpr.erase_user)
        metrics.register_builtin_metrics()
        panels.register_builtin_panels()
        signals.connect()
        # Other apps may keep their dashboard figures and user panels in <app>/dashboard.py, which
        # registers through console.registry: found here like admin.py is found by the admin.
        autodiscover_modules("dashboard")
        # Groups pick up the permissions of every installed app after each migrate (and after a
        # test flush): console is the last app, so every other app's permissions exist by then.
        post_migrate.connect(roles.sync_after_migrate, sender=self, dispatch_uid="console.sync_staff_groups")
