"""Amazon SES tracking webhook (bounces, complaints) with SNS signature verification.

Mounted at ``/anymail/amazon_ses/tracking/`` (the path anymail documents). Anymail checks the basic
auth (``ANYMAIL["WEBHOOK_SECRET"]``) and the SNS headers; this subclass adds the SNS message
signature check anymail 15.2 leaves as a "Future" comment. ``receivers.py`` reacts to the events.
Each delivery is one ``webhooks`` metric line (``core.metrics.record_webhook``, source ``ses``).
"""

from __future__ import annotations

import time
from typing import Any

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from django.urls import path

from core import metrics

from . import sns


class VerifiedAmazonSESTrackingWebhookView(AmazonSESTrackingWebhookView):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # anymail collects validators subclass-first; run basic auth and the header checks before
        # the signature check, so an unauthenticated caller never makes us fetch a certificate.
        self.validators = list(reversed(self.validators))  # type: ignore[has-type]

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        started, ok = time.perf_counter(), False
        try:
            response = super().post(request, *args, **kwargs)
            ok = response.status_code < 400
            return response
        finally:
            metrics.record_webhook(
                source="ses",
                event_type=request.headers.get("X-Amz-Sns-Message-Type", ""),
                ok=ok,
                latency_ms=(time.perf_counter() - started) * 1000,
            )

    def validate_request(self, request: Any) -> None:
        try:
            sns.verify(self._parse_sns_message(request))
        except sns.SnsVerificationError as exc:
            raise AnymailWebhookValidationFailure(f"Amazon SNS signature check failed: {exc}")


app_name = "anymail"
urlpatterns = [
    path(
        "amazon_ses/tracking/",
        VerifiedAmazonSESTrackingWebhookView.as_view(),
        name="amazon_ses_tracking_webhook",
    ),
]
