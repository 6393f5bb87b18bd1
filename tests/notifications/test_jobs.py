"""Scheduled jobs with time travel: daily/weekly digests (once per period), retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from notifications.jobs import purge_old_notifications, send_daily_digests, send_weekly_digests
from notifications.models import EmailDelivery, Notification, NotificationSettings, SuppressedAddress
from notifications.services import address_suppress, preferences_update
from tests.factories import UserFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db
MONDAY_MORNING = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def daily_user(user):
    preferences_update(user=user, digest_frequency="daily")
    return user


def test_daily_digest_once_per_day(daily_user, other_user, django_capture_on_commit_callbacks):
    with time_machine.travel(MONDAY_MORNING - timedelta(hours=3), tick=False):
        NotificationFactory(user=daily_user, title="Ada joined Apollo", link="/projects/apollo")
        NotificationFactory(user=daily_user, title="Invoice paid", category="billing")
        NotificationFactory(user=daily_user, title="Already read", read_at=timezone.now())
        NotificationFactory(user=other_user, title="Other user, digest off")
    with time_machine.travel(MONDAY_MORNING - timedelta(days=3), tick=False):
        NotificationFactory(user=daily_user, title="Too old for today's digest")

    with time_machine.travel(MONDAY_MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert send_daily_digests() == 1  # one page (its chunk runs inline: eager tasks)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [daily_user.email]
    assert message.subject == "[StackPro] Your daily summary: 2 unread notifications"
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert "Ada joined Apollo" in part and "Invoice paid" in part
        assert "Already read" not in part and "Too old" not in part
        assert "http://localhost:3000/projects/apollo" in part
        assert "/notifications/unsubscribe/" in part
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # run again the same day (a retried cron, a second scheduler): nothing new
    with (
        time_machine.travel(MONDAY_MORNING + timedelta(hours=10), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        NotificationFactory(user=daily_user, title="Later that day")
        send_daily_digests()
    assert len(mail.outbox) == 1

    # next day: a new digest with what is unread from the last 24 hours
    with (
        time_machine.travel(MONDAY_MORNING + timedelta(days=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert send_daily_digests() == 1
    assert len(mail.outbox) == 2
    assert "Later that day" in mail.outbox[1].body
    assert EmailDelivery.objects.filter(kind="digest").count() == 2


def test_no_digest_without_unread_or_when_suppressed(daily_user):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        send_daily_digests()  # nothing unread
        assert not EmailDelivery.objects.exists()
        NotificationFactory(user=daily_user)
        address_suppress(email=daily_user.email, reason=SuppressedAddress.Reason.BOUNCED)
        send_daily_digests()
    assert not EmailDelivery.objects.exists()


def test_weekly_digest_once_per_iso_week(django_capture_on_commit_callbacks):
    weekly = UserFactory()
    preferences_update(user=weekly, digest_frequency="weekly")
    daily = UserFactory()
    preferences_update(user=daily, digest_frequency="daily")
    with time_machine.travel(MONDAY_MORNING - timedelta(days=2), tick=False):
        NotificationFactory(user=weekly, title="Weekend news")
        NotificationFactory(user=daily, title="Not in a weekly digest")

    with time_machine.travel(MONDAY_MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert send_weekly_digests() == 1
    with time_machine.travel(MONDAY_MORNING + timedelta(days=3), tick=False):  # Thursday, same week
        send_weekly_digests()
        assert EmailDelivery.objects.filter(kind="digest").count() == 1
    with (
        time_machine.travel(MONDAY_MORNING + timedelta(days=7), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        NotificationFactory(user=weekly, title="Second week")
        assert send_weekly_digests() == 1
    assert [m.to for m in mail.outbox] == [[weekly.email], [weekly.email]]
    assert "Your weekly summary: 1 unread notification" in mail.outbox[0].subject
    assert EmailDelivery.objects.get(idempotency_key__endswith="2026-W48").user == weekly


def test_retention_deletes_only_old_read_notifications(user, settings):
    settings.NOTIFICATIONS_RETENTION_DAYS = 30
    with time_machine.travel(MONDAY_MORNING - timedelta(days=40), tick=False):
        old_read = NotificationFactory(user=user, read_at=timezone.now())
        old_unread = NotificationFactory(user=user)
    with time_machine.travel(MONDAY_MORNING - timedelta(days=10), tick=False):
        recent_read = NotificationFactory(user=user, read_at=timezone.now())
    with time_machine.travel(MONDAY_MORNING, tick=False):
        assert purge_old_notifications() == 1
        assert purge_old_notifications() == 0
    remaining = set(Notification.objects.values_list("pk", flat=True))
    assert remaining == {old_unread.pk, recent_read.pk}
    assert old_read.pk not in remaining


def test_digests_fan_out_in_bounded_idempotent_pages_and_chunks(settings, django_capture_on_commit_callbacks):
    """Five users in pages of three and chunks of two: two page tasks, three chunk tasks; a page run
    twice (SQS redelivery) and the whole job run twice (EventBridge's retry) queue each digest once."""
    from notifications.tasks import digest_page_task, digest_queue_chunk_task

    settings.NOTIFICATIONS_DIGEST_PAGE_SIZE = 3
    settings.NOTIFICATIONS_DIGEST_CHUNK_SIZE = 2
    users = UserFactory.create_batch(5)
    for user in users:
        preferences_update(user=user, digest_frequency="daily")
    with time_machine.travel(MONDAY_MORNING - timedelta(hours=1), tick=False):
        for user in users:
            NotificationFactory(user=user)
    # In the database's order (MariaDB's UUID type does not sort as the text does).
    ids = [str(pk) for pk in NotificationSettings.objects.order_by("user_id").values_list("user_id", flat=True)]
    period = {"frequency": "daily", "period_key": MONDAY_MORNING.date().isoformat()}
    with time_machine.travel(MONDAY_MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        since = timezone.now() - timedelta(days=1)
        assert send_daily_digests() == 2
        assert send_daily_digests() == 2
        page = digest_page_task.apply(kwargs={"first_id": ids[0], "last_id": ids[2], "since": since, **period})
        assert page.get() == 2  # chunks of users 1-2 and 3
        chunk = digest_queue_chunk_task.apply(kwargs={"user_ids": ids[:2], "since": since, **period})
        assert chunk.get() == 0
    assert EmailDelivery.objects.filter(kind="digest").count() == 5
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)
