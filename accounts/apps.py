"""App configuration for accounts: registers its GDPR export sections and eraser."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import registry

        from . import services

        registry.register_exporter("profile", services.export_profile)
        registry.register_exporter("auth_events", services.export_auth_events)
        registry.register_eraser("accounts", services.erase_accounts_data)
