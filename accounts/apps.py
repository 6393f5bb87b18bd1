"""App configuration for accounts: registers its GDPR export sections and eraser."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import registry

        from . import gdpr

        registry.register_exporter("profile", gdpr.export_profile)
        registry.register_exporter("auth_events", gdpr.export_auth_events)
        registry.register_exporter("sessions", gdpr.export_sessions)
        registry.register_eraser("accounts", gdpr.erase_user)
