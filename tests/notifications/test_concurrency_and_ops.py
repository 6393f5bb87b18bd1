"""Two workers racing for one email, a broker that is down at commit, system checks, GDPR hooks."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.checks import ERROR
from django.db import connection, transaction
from django.utils import timezone

from core.registry import erasers, exporters
from notifications.checks import ses_webhook_pinned, ses_webhook_secured
from notifications.jobs import requeue_stalled_deliveries
from notifications.models import EmailDelivery, Notification
from notifications.services import notify
from notifications.tasks import send_email_delivery_task


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_send_once(user, flaky_backend):
    """The first attempt fails; its retry and a duplicate of the message then run at once."""
    flaky_backend.failures_left = 1
    with transaction.atomic():
        notify(user=user, category="project", title="Raced")
    delivery = EmailDelivery.objects.get()
    assert delivery.status == EmailDelivery.Status.FAILED
    delivery_id = str(delivery.pk)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(send_email_delivery_task.apply(args=[delivery_id]).get())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["not_claimed", "sent"]
    assert len(mail.outbox) == 1
    assert EmailDelivery.objects.get().attempts == 2


@pytest.mark.django_db
def test_broker_down_at_commit_leaves_a_pending_row_the_job_requeues(
    user, django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(send_email_delivery_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):  # robust callback: logged, not raised
        notify(user=user, category="billing", title="Invoice paid")
    assert EmailDelivery.objects.get().status == EmailDelivery.Status.PENDING
    assert Notification.objects.count() == 1
    monkeypatch.undo()

    assert requeue_stalled_deliveries() == 0  # young rows may still be on their way
    with time_machine.travel(timezone.now() + timedelta(minutes=10), tick=False):
        assert requeue_stalled_deliveries() == 1
    assert EmailDelivery.objects.get().status == EmailDelivery.Status.SENT
    assert len(mail.outbox) == 1


def test_system_check_refuses_a_non_amazon_certificate_url(settings):
    settings.DEBUG = False
    assert ses_webhook_secured(None) == []
    settings.NOTIFICATIONS_SNS_CERT_URL_REGEX = r"^http://.*"
    assert [e.id for e in ses_webhook_secured(None)] == ["notifications.E001"]


def test_deploy_check_refuses_an_unauthenticated_or_unpinned_ses_webhook(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": ""}
    settings.NOTIFICATIONS_SES_TOPIC_ARNS = []
    problems = ses_webhook_pinned(None)
    assert [(e.id, e.level) for e in problems] == [("notifications.E002", ERROR), ("notifications.E003", ERROR)]
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "user:pass"}
    settings.NOTIFICATIONS_SES_TOPIC_ARNS = ["arn:aws:sns:us-east-1:123456789012:ses"]
    assert ses_webhook_pinned(None) == []


@pytest.mark.django_db
def test_gdpr_export_and_erasure(user, other_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, category="project", title="Mine")
        notify(user=other_user, category="project", title="Theirs")
    exported = exporters()["notifications"](user)
    assert [n["title"] for n in exported["notifications"]] == ["Mine"]
    assert exported["emails"][0]["subject"] == "[StackPro] Mine"
    assert exported["preferences"]["categories"]["security"]["locked"] is True
    erasers()["notifications"](user)
    assert list(Notification.objects.values_list("title", flat=True)) == ["Theirs"]
    assert list(EmailDelivery.objects.values_list("user", flat=True)) == [other_user.pk]
