"""notify() and send_transactional_email(): after commit only, through the outbox, idempotent task
under retries and duplicates, failures recorded and retried, suppressed addresses skipped."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from celery.exceptions import Retry
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications.jobs import requeue_stalled_deliveries
from notifications.models import EmailDelivery, Notification, SuppressedAddress
from notifications.services import address_suppress, notify, send_transactional_email
from notifications.tasks import send_email_delivery_task

pytestmark = pytest.mark.django_db


def test_email_is_queued_only_after_commit(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(user=user, category="project", title="Added to Apollo")
        # written to the outbox inside the transaction, not sent yet
        delivery = EmailDelivery.objects.get(user=user)
        assert delivery.status == EmailDelivery.Status.PENDING
        assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.status == EmailDelivery.Status.SENT and delivery.sent_at and delivery.attempts == 1


def test_rolled_back_transaction_sends_nothing(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                notify(user=user, category="billing", title="Payment failed")
                send_transactional_email(to=user.email, template="notifications_default", context={"title": "x"})
                raise RuntimeError("the caller's change failed")
    assert callbacks == []
    assert mail.outbox == []
    assert not Notification.objects.exists()
    assert not EmailDelivery.objects.exists()


def test_duplicated_task_sends_once(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, category="project", title="Added to Apollo")
    delivery = EmailDelivery.objects.get()
    # the broker delivers the same message again (SQS/Redis are at-least-once)
    assert send_email_delivery_task.delay(str(delivery.pk)).get() == "not_claimed"
    assert send_email_delivery_task.apply(args=[str(delivery.pk)]).get() == "not_claimed"
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_task_running_elsewhere_is_not_sent_twice_until_its_claim_is_stale(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        notify(user=user, category="project", title="Added to Apollo")
    delivery = EmailDelivery.objects.get()
    EmailDelivery.objects.filter(pk=delivery.pk).update(status="sending", claimed_at=timezone.now())
    assert send_email_delivery_task.apply(args=[str(delivery.pk)]).get() == "not_claimed"
    assert mail.outbox == []
    # that worker died: after the claim timeout the row may be claimed again
    EmailDelivery.objects.filter(pk=delivery.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    assert send_email_delivery_task.apply(args=[str(delivery.pk)]).get() == "sent"
    assert len(mail.outbox) == 1


def run_like_a_worker(delivery_id: str) -> str:
    """What a worker does with the task: on ``Retry`` the message is published again with
    ``retries + 1`` (after the backoff countdown) and runs again, until max_retries re-raises."""
    retries = 0
    while True:
        try:
            return send_email_delivery_task.apply(args=[delivery_id], retries=retries).get()
        except Retry as retry:
            # The backoff countdown, with Celery's full jitter: anywhere in [0, 30 s x 2^retries].
            assert retry.when is not None and 0 <= retry.when <= 30 * 2**retries
            retries += 1


def test_failure_is_recorded_and_retried_until_sent(user, flaky_backend, django_capture_on_commit_callbacks):
    flaky_backend.failures_left = 2
    with django_capture_on_commit_callbacks(execute=False):
        notification = notify(user=user, category="assistant", title="80% of your tokens used")
    delivery = EmailDelivery.objects.get()
    with pytest.raises(Retry):
        send_email_delivery_task.apply(args=[str(delivery.pk)])
    delivery.refresh_from_db()
    assert delivery.status == EmailDelivery.Status.FAILED
    assert delivery.last_error == "ConnectionError: provider unavailable"
    assert Notification.objects.filter(pk=notification.pk).exists()

    assert run_like_a_worker(str(delivery.pk)) == "sent"
    delivery.refresh_from_db()
    assert delivery.status == EmailDelivery.Status.SENT
    assert delivery.attempts == 3  # two failures, then the retry that worked
    assert delivery.last_error == ""
    assert delivery.notification_id == notification.pk
    assert len(mail.outbox) == 1
    # a late duplicate of an earlier (failed) attempt's message changes nothing
    assert send_email_delivery_task.apply(args=[str(delivery.pk)]).get() == "not_claimed"
    assert len(mail.outbox) == 1


def test_retries_stop_after_max_retries(user, flaky_backend, django_capture_on_commit_callbacks):
    flaky_backend.failures_left = 100
    with django_capture_on_commit_callbacks(execute=False):
        notify(user=user, category="billing", title="Payment failed")
    delivery = EmailDelivery.objects.get()
    with pytest.raises(ConnectionError):
        run_like_a_worker(str(delivery.pk))
    delivery.refresh_from_db()
    assert delivery.status == EmailDelivery.Status.FAILED
    assert delivery.attempts == 1 + send_email_delivery_task.max_retries
    assert mail.outbox == []


def test_task_retry_policy():
    assert send_email_delivery_task.max_retries == 6
    assert send_email_delivery_task.retry_backoff == 30
    assert Exception in send_email_delivery_task.autoretry_for


@pytest.mark.django_db(transaction=True)
def test_persistent_failure_never_fails_the_caller_and_is_not_lost(user, flaky_backend):
    """A real commit (no test transaction): the callback is robust, the request would succeed."""
    flaky_backend.failures_left = 100
    with transaction.atomic():
        notification = notify(user=user, category="billing", title="Invoice paid")
    # (inline tasks: the Retry is raised into the robust on_commit callback, logged, not re-raised)
    assert Notification.objects.filter(pk=notification.pk).exists()
    delivery = EmailDelivery.objects.get()
    assert delivery.status == EmailDelivery.Status.FAILED
    assert "ConnectionError: provider unavailable" in delivery.last_error
    assert mail.outbox == []

    # the provider is back; the retry chain is gone (no broker): the requeue job finds the row
    flaky_backend.failures_left = 0
    assert requeue_stalled_deliveries() == 0  # too early: a Celery retry may still be on its way
    with time_machine.travel(timezone.now() + timedelta(hours=3), tick=False):
        assert requeue_stalled_deliveries() == 1
        assert requeue_stalled_deliveries() == 0
    delivery.refresh_from_db()
    assert delivery.status == EmailDelivery.Status.SENT
    assert send_email_delivery_task.apply(args=[str(delivery.pk)]).get() == "not_claimed"
    assert len(mail.outbox) == 1


def test_suppressed_address_gets_in_app_but_no_email_except_security(user, django_capture_on_commit_callbacks):
    address_suppress(email=user.email.upper(), reason=SuppressedAddress.Reason.BOUNCED)
    with django_capture_on_commit_callbacks(execute=True):
        assert notify(user=user, category="project", title="Added") is not None
        notify(user=user, category="security", title="Password changed")
    assert Notification.objects.filter(user=user).count() == 2
    # A bounce (perhaps forged) never silences security mail.
    assert list(EmailDelivery.objects.values_list("category", flat=True)) == ["security"]
    assert [m.subject for m in mail.outbox] == ["[StackPro security] Password changed"]


def test_address_suppressed_after_queuing_is_skipped_at_send_time(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(user=user, category="project", title="Added")
    address_suppress(email=user.email, reason=SuppressedAddress.Reason.COMPLAINED)
    callbacks[0]()
    assert mail.outbox == []
    assert EmailDelivery.objects.get().status == EmailDelivery.Status.SKIPPED


def test_transactional_email_ignores_preferences_and_suppression(user, django_capture_on_commit_callbacks):
    address_suppress(email=user.email, reason=SuppressedAddress.Reason.BOUNCED)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = send_transactional_email(
            to=user.email,
            template="notifications_default",
            context={"title": "Verify your email", "link_url": "https://app.example/verify/abc"},
        )
    delivery.refresh_from_db()
    assert delivery.kind == EmailDelivery.Kind.TRANSACTIONAL and delivery.status == EmailDelivery.Status.SENT
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "[StackPro] Verify your email"
    assert "List-Unsubscribe" not in message.extra_headers
    assert "https://app.example/verify/abc" in message.body


def test_unknown_category_is_a_programming_error(user):
    with pytest.raises(ValueError):
        notify(user=user, category="marketing", title="x")
