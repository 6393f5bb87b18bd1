"""System checks of billing for production (``check --deploy``): Stripe runs in live mode with a key."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def stripe_live_mode(app_configs: Any, **kwargs: Any) -> list[Error]:
    """In test mode test cards buy paid plans; live mode without a live key cannot sell at all."""
    if not settings.STRIPE_LIVE_MODE:
        return [
            Error(
                "STRIPE_LIVE_MODE is false: test cards would buy paid plans. (A staging stage that means it "
                "silences billing.E001 in SILENCED_SYSTEM_CHECKS.)",
                id="billing.E001",
            )
        ]
    if not settings.STRIPE_LIVE_SECRET_KEY:
        return [Error("STRIPE_LIVE_MODE is on but STRIPE_LIVE_SECRET_KEY is empty.", id="billing.E002")]
    return []
