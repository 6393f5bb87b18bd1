"""App configuration for core."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, gdpr  # noqa: F401  (checks registers system checks)
        from .registry import register_eraser, register_exporter

        register_exporter("requests", gdpr.export_user)
        register_eraser("core", gdpr.erase_user)
