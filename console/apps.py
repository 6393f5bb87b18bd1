"""App configuration for the staff console (the Django admin as the place staff run the business)."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Staff console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.registry import register_eraser

        from . import gdpr, roles

        register_eraser("console", gdpr.erase_user)  # (failed tasks are recorded: stackpro/celery.py)
        # Groups pick up the permissions of every installed app after each migrate (and after a
        # test flush): console is the last app, so every other app's permissions exist by then.
        post_migrate.connect(roles.sync_after_migrate, sender=self, dispatch_uid="console.sync_staff_groups")
