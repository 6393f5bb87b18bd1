"""Reactions to anymail's tracking events: permanent bounces and complaints suppress the address."""

from __future__ import annotations

import logging
from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType

from .models import EmailDelivery, SuppressedAddress
from .services import address_suppress

logger = logging.getLogger(__name__)


def _is_permanent_bounce(event: AnymailTrackingEvent) -> bool:
    esp_event = event.esp_event if isinstance(event.esp_event, dict) else {}
    bounce = esp_event.get("bounce")
    if isinstance(bounce, dict):  # SES: only "Permanent" bounces; "Transient" ones (mailbox full) pass
        return bounce.get("bounceType") == "Permanent"
    return True


def handle_tracking(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    if not event.recipient:
        return
    if event.event_type == EventType.BOUNCED and _is_permanent_bounce(event):
        reason = SuppressedAddress.Reason.BOUNCED
    elif event.event_type == EventType.COMPLAINED:
        reason = SuppressedAddress.Reason.COMPLAINED
    else:
        logger.info("email event %s ignored", event.event_type, extra={"esp": esp_name})
        return
    address_suppress(
        email=event.recipient,
        reason=reason,
        description=event.description or event.mta_response or "",
        event_id=event.event_id or "",
    )
    if event.message_id:
        EmailDelivery.objects.filter(provider_message_id=event.message_id).update(
            last_error=f"{reason}: {event.description or ''}"[:2000]
        )
