"""Cross-app contracts laid by the foundation: the expired-token job and the notification service."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.jobs import flush_expired_tokens
from notifications.models import Notification
from notifications.services import notify

pytestmark = pytest.mark.django_db


def test_flush_expired_tokens_removes_only_expired(user):
    RefreshToken.for_user(user)
    RefreshToken.for_user(user)
    OutstandingToken.objects.filter(pk=OutstandingToken.objects.first().pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    assert flush_expired_tokens() == 1
    assert OutstandingToken.objects.count() == 1


def test_notify_creates_an_in_app_notification(user):
    notification = notify(user=user, category="project", title="Added to Apollo", link="/projects/1")
    assert Notification.objects.get(pk=notification.pk).user == user
    with pytest.raises(ValueError):
        notify(user=user, category="nonsense", title="x")
    assert mail.outbox == []
