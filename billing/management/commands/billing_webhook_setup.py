"""``manage.py billing_webhook_setup``: create or update dj-stripe's WebhookEndpoint row from the
environment, so each deployment's webhook URL and signing secret come from configuration.

Reads STRIPE_WEBHOOK_SECRET (whsec_…, required), STRIPE_WEBHOOK_ENDPOINT_ID (we_… from the Stripe
dashboard; default "we_stackpro_<mode>"), STRIPE_WEBHOOK_UUID (the <uuid> of /stripe/webhook/<uuid>/;
kept if the row exists, generated otherwise) and STRIPE_WEBHOOK_URL (informational). Idempotent.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from djstripe.models import WebhookEndpoint

from billing.stripe_client import API_VERSION
from billing.webhooks import HANDLED_EVENTS


class Command(BaseCommand):
    help = "Create/update the Stripe webhook endpoint row (secret, uuid) from environment settings."

    def handle(self, *args: Any, **options: Any) -> None:
        secret = settings.STRIPE_WEBHOOK_SECRET
        if not secret.startswith("whsec_"):
            raise CommandError("STRIPE_WEBHOOK_SECRET must be set to the endpoint's signing secret (whsec_…).")
        livemode = bool(settings.STRIPE_LIVE_MODE)
        endpoint_id = settings.STRIPE_WEBHOOK_ENDPOINT_ID or f"we_stackpro_{'live' if livemode else 'test'}"
        wanted_uuid = settings.STRIPE_WEBHOOK_UUID
        endpoint = WebhookEndpoint.objects.filter(id=endpoint_id).first()
        if endpoint is None:
            endpoint = WebhookEndpoint(
                id=endpoint_id, djstripe_uuid=uuid.UUID(wanted_uuid) if wanted_uuid else uuid.uuid4()
            )
        elif wanted_uuid:
            endpoint.djstripe_uuid = uuid.UUID(wanted_uuid)
        endpoint.secret = secret
        endpoint.livemode = livemode
        endpoint.url = settings.STRIPE_WEBHOOK_URL or endpoint.url or "https://example.invalid/"
        endpoint.enabled_events = list(HANDLED_EVENTS)
        endpoint.status = "enabled"
        endpoint.api_version = API_VERSION
        endpoint.save()
        self.stdout.write(f"Webhook endpoint {endpoint.id}: POST /stripe/webhook/{endpoint.djstripe_uuid}/")
