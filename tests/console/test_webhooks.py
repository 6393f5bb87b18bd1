"""Stripe webhook events in the console: state, filters, and re-processing a failed one."""

from __future__ import annotations

import json

import pytest
from django.contrib.messages import get_messages
from djstripe.models import Event, WebhookEventTrigger

from tests.console.conftest import admin_url

pytestmark = pytest.mark.django_db

EVENT = {
    "id": "evt_console_1",
    "object": "event",
    "api_version": "2024-06-20",
    "created": 1_760_000_000,
    "data": {"object": {"id": "cus_console_1", "object": "customer", "email": "a@example.com"}},
    "livemode": False,
    "pending_webhooks": 0,
    "request": {"id": None, "idempotency_key": None},
    "type": "ping",
}


def _trigger(**fields) -> WebhookEventTrigger:
    defaults = {"remote_ip": "127.0.0.1", "headers": {}, "body": json.dumps(EVENT)}
    return WebhookEventTrigger.objects.create(**{**defaults, **fields})


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_reprocess_runs_dj_stripe_processing_again(billing_client, fake_stripe) -> None:
    failed = _trigger(valid=True, processed=False, exception="Stripe timed out", traceback="Traceback ...")
    invalid = _trigger(valid=False, body="{}")
    response = billing_client.post(
        admin_url("djstripe_webhookeventtrigger_changelist"),
        {"action": "reprocess", "_selected_action": [failed.pk, invalid.pk]},
        follow=True,
    )
    assert "Re-processed 1; failed again 0; skipped (invalid) 1." in _messages(response)
    failed.refresh_from_db()
    assert (
        failed.processed
        and failed.exception == ""
        and failed.event_id == "evt_console_1"
        and Event.objects.filter(id="evt_console_1").exists()
    )
    invalid.refresh_from_db()
    assert not invalid.processed
    # dj-stripe asked (the fake) Stripe which account the key belongs to while storing the event.
    assert fake_stripe.calls("GET", "/v1/account")


def test_reprocess_that_fails_again_keeps_the_error(billing_client, fake_stripe) -> None:
    fake_stripe.fail_next(500, times=50)
    failed = _trigger(valid=True, processed=False, exception="first")
    response = billing_client.post(
        admin_url("djstripe_webhookeventtrigger_changelist"),
        {"action": "reprocess", "_selected_action": [failed.pk]},
        follow=True,
    )
    assert "Re-processed 0; failed again 1; skipped (invalid) 0." in _messages(response)
    failed.refresh_from_db()
    assert not failed.processed and failed.exception and failed.exception != "first" and failed.traceback


def test_support_has_no_reprocess_action_and_states_are_shown(billing_client, support_user) -> None:
    _trigger(valid=True, processed=True)
    _trigger(valid=True, processed=False, exception="boom")
    _trigger(valid=False)
    html = billing_client.get(admin_url("djstripe_webhookeventtrigger_changelist")).content.decode()
    assert 'value="reprocess"' in html
    for state in ("processed", "failed", "invalid"):
        assert f">{state}</span>" in html
    failed_only = billing_client.get(admin_url("djstripe_webhookeventtrigger_changelist"), {"status": "failed"})
    assert failed_only.content.decode().count('class="console-state') == 2


def test_billing_without_the_reprocess_permission_gets_no_action(billing_user) -> None:
    from django.contrib.auth.models import Permission

    from tests.console.conftest import admin_client

    billing_user.groups.clear()
    billing_user.user_permissions.add(
        Permission.objects.get(codename="view_webhookeventtrigger", content_type__app_label="djstripe")
    )
    html = admin_client(billing_user).get(admin_url("djstripe_webhookeventtrigger_changelist")).content.decode()
    assert 'value="reprocess"' not in html
