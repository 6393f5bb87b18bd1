"""App configuration for billing: Stripe SDK set-up, webhook reactions, registry entries."""

from typing import Any

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        from core import registry

        from . import (  # noqa: F401  (registers checks, connects the webhook reactions)
            checks,
            gdpr,
            stripe_client,
            webhooks,
        )

        stripe_client.configure()

        def _reconfigure(setting: str, **kwargs: Any) -> None:
            if setting.startswith("STRIPE_"):
                stripe_client.configure()

        setting_changed.connect(_reconfigure, weak=False, dispatch_uid="billing-stripe-settings")
        registry.register_exporter("billing", gdpr.export_user)
        registry.register_eraser("billing", gdpr.erase_user)
