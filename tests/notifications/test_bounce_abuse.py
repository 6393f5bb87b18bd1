"""Forged or replayed SES bounces through the real webhook: an old (replayed) SNS message is refused,
and no bounce ever suppresses security mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from notifications.models import SuppressedAddress
from tests.notifications.conftest import post_sns
from tests.notifications.test_bounces import bounce_event

pytestmark = pytest.mark.django_db


def sns_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_a_replayed_message_older_than_an_hour_is_refused(client, sns_signer, user):
    old = sns_signer.ses_notification(
        bounce_event(user.email), Timestamp=sns_time(datetime.now(UTC) - timedelta(hours=2))
    )
    response = post_sns(client, old)
    assert response.status_code == 400, response.content
    assert not SuppressedAddress.objects.exists()
    fresh = sns_signer.ses_notification(bounce_event(user.email), Timestamp=sns_time(datetime.now(UTC)))
    assert post_sns(client, fresh).status_code == 200
    assert SuppressedAddress.objects.filter(email=user.email).exists()


def test_a_bounce_never_suppresses_security_mail(
    client, sns_signer, user, password, django_capture_on_commit_callbacks
):
    bounce = sns_signer.ses_notification(bounce_event(user.email), Timestamp=sns_time(datetime.now(UTC)))
    assert post_sns(client, bounce).status_code == 200
    assert SuppressedAddress.objects.filter(email=user.email).exists()
    from tests.conftest import client_for

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(user).post(
            "/api/v1/auth/password/change/", {"old_password": password, "new_password": "An0ther-long-passphrase"}
        )
    assert response.status_code == 204, response.content
    user.refresh_from_db()
    assert user.check_password("An0ther-long-passphrase")
    security = [m for m in mail.outbox if "security" in m.subject.lower()]
    assert [m.to for m in security] == [[user.email]], [m.subject for m in mail.outbox]
