"""System checks: the SES webhook must be authenticated and its SNS signature check intact."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

AMAZON_CERT_PREFIX = r"^https://sns\."


@register()
def ses_webhook_secured(app_configs: Any, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    if settings.DEBUG:
        return problems
    if not str(settings.NOTIFICATIONS_SNS_CERT_URL_REGEX).startswith(AMAZON_CERT_PREFIX):
        problems.append(
            Error(
                "NOTIFICATIONS_SNS_CERT_URL_REGEX must only allow https://sns.<region>.amazonaws.com certificates.",
                id="notifications.E001",
            )
        )
    if "amazon_ses" in settings.EMAIL_BACKEND and not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        problems.append(
            Warning(
                "ANYMAIL_WEBHOOK_SECRET is empty: the SES tracking webhook would accept unauthenticated posts.",
                id="notifications.W001",
            )
        )
    return problems
