"""App configuration for assistant: registers its usage provider, GDPR exporter and eraser."""

from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "assistant"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import registry

        from . import gdpr, quotas, selectors

        registry.register_usage(quotas.QUOTA_LIMIT_NAME, selectors.usage_tokens_this_month)
        registry.register_exporter("assistant", gdpr.export_user)
        registry.register_eraser("assistant", gdpr.erase_user)
