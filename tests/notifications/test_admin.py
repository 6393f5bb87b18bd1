"""The admin pages of notifications load with rows, search and filters, and the retry action works."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from notifications.models import EmailDelivery, SuppressedAddress
from notifications.services import address_suppress, notify, preferences_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def rows(user, django_capture_on_commit_callbacks):
    preferences_update(user=user, categories={"product": {"email": True}}, digest_frequency="daily")
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, category="product", title="New feature")
    address_suppress(email="bounced@example.com", reason=SuppressedAddress.Reason.BOUNCED)


@pytest.mark.parametrize(
    "model", ["notification", "notificationpreference", "notificationsettings", "emaildelivery", "suppressedaddress"]
)
def test_changelists_load(admin_client, rows, model, django_assert_max_num_queries):
    url = reverse(f"admin:notifications_{model}_changelist")
    with django_assert_max_num_queries(12):
        response = admin_client.get(url, {"q": "example.com"})
    assert response.status_code == 200
    assert b"example.com" in response.content


def test_retry_action_requeues_failed_rows(admin_client, rows):
    delivery = EmailDelivery.objects.get()
    EmailDelivery.objects.filter(pk=delivery.pk).update(status="failed", last_error="boom")
    mail.outbox.clear()
    response = admin_client.post(
        reverse("admin:notifications_emaildelivery_changelist"),
        {"action": "retry_sending", "_selected_action": [str(delivery.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert EmailDelivery.objects.get().status == "sent"
    assert len(mail.outbox) == 1
