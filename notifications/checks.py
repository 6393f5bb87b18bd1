"""System checks: the SES webhook must be authenticated, pinned to our topics and its SNS signature
check intact. In production (``check --deploy``) a missing webhook secret or topic list is an Error."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

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
    return problems


@register(Tags.security, deploy=True)
def ses_webhook_pinned(app_configs: Any, **kwargs: Any) -> list[Any]:
    """Without a secret anyone may post to the webhook; without topic ARNs any AWS account's SNS topic
    signs a valid message. Either lets a stranger suppress our users' addresses."""
    problems: list[Any] = []
    if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        problems.append(
            Error(
                "ANYMAIL_WEBHOOK_SECRET is empty: the SES tracking webhook would accept unauthenticated posts.",
                id="notifications.E002",
            )
        )
    if not settings.NOTIFICATIONS_SES_TOPIC_ARNS:
        problems.append(
            Error(
                "NOTIFICATIONS_SES_TOPIC_ARNS is empty: any AWS account's SNS topic could post bounces.",
                id="notifications.E003",
            )
        )
    return problems
