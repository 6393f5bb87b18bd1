"""Preferences: defaults, the category × channel matrix through notify(), security always on, the API."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from notifications.models import Category, EmailDelivery, Notification, NotificationPreference, NotificationSettings
from notifications.services import notify, preferences_update
from tests.nothing_changed import nothing_changed
from tests.security.route_matrix import covers_route
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db
URL = reverse("notifications:preferences")


def test_defaults(auth_client):
    body = auth_client.get(URL).json()
    assert body["digest_frequency"] == "off"
    assert body["categories"] == {
        "security": {"in_app": True, "email": True, "locked": True},
        "project": {"in_app": True, "email": True, "locked": False},
        "billing": {"in_app": True, "email": True, "locked": False},
        "assistant": {"in_app": True, "email": True, "locked": False},
        "product": {"in_app": True, "email": False, "locked": False},
    }


# Every category × (in_app, email) combination a user can choose; security only "both on" (see below).
MATRIX = [
    (category, in_app, email)
    for category in Category.values
    for in_app in (True, False)
    for email in (True, False)
    if category != Category.SECURITY or (in_app and email)
]


@pytest.mark.parametrize("category, in_app, email", MATRIX)
def test_matrix_notify_follows_preferences(user, django_capture_on_commit_callbacks, category, in_app, email):
    preferences_update(user=user, categories={category: {"in_app": in_app, "email": email}})

    with django_capture_on_commit_callbacks(execute=True):
        result = notify(user=user, category=category, title="Something happened")

    assert Notification.objects.filter(user=user).exists() is in_app
    assert (result is not None) is in_app
    assert EmailDelivery.objects.filter(user=user).exists() is email
    assert len(mail.outbox) == (1 if email else 0)


def test_security_is_always_both_channels(user, auth_client, django_capture_on_commit_callbacks):
    with nothing_changed():  # the failed PUT changed nothing
        response = auth_client.put(URL, {"categories": {"security": {"email": False}}}, format="json")
    body = assert_api_error(response, 400, "preference_locked")
    assert "categories.security" in body["fields"]
    # sending "true" for security is accepted
    ok = auth_client.put(URL, {"categories": {"security": {"email": True, "in_app": True}}}, format="json")
    assert ok.status_code == 200
    assert ok.json()["categories"]["security"] == {"in_app": True, "email": True, "locked": True}

    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, category="security", title="Your password was changed")
    assert Notification.objects.filter(user=user, category="security").count() == 1
    assert len(mail.outbox) == 1


def test_put_is_partial_and_persists(auth_client):
    response = auth_client.put(
        URL,
        {"categories": {"project": {"email": False}, "product": {"email": True}}, "digest_frequency": "weekly"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = auth_client.get(URL).json()
    assert body["categories"]["project"] == {"in_app": True, "email": False, "locked": False}
    assert body["categories"]["product"] == {"in_app": True, "email": True, "locked": False}
    assert body["categories"]["billing"]["email"] is True
    assert body["digest_frequency"] == "weekly"

    auth_client.put(URL, {"categories": {"project": {"in_app": False}}}, format="json")
    assert auth_client.get(URL).json()["categories"]["project"] == {"in_app": False, "email": False, "locked": False}


@covers_route("notifications:preferences", "other_tenant", methods=("get", "put"))
def test_preferences_are_per_user(auth_client, other_client):
    mine = auth_client.put(URL, {"categories": {"billing": {"email": False}}}, format="json")
    assert mine.status_code == 200 and mine.json()["categories"]["billing"]["email"] is False
    mine_rows = list(NotificationPreference.objects.filter(user=auth_client.user).order_by("pk").values())
    mine_settings = list(NotificationSettings.objects.filter(user=auth_client.user).values())
    # The other user's PUT answers (and changes) only their own preferences.
    theirs = other_client.put(URL, {"categories": {"project": {"in_app": False}}}, format="json")
    assert theirs.status_code == 200
    # the caller's rows are untouched, updated_at included
    assert list(NotificationPreference.objects.filter(user=auth_client.user).order_by("pk").values()) == mine_rows
    assert list(NotificationSettings.objects.filter(user=auth_client.user).values()) == mine_settings
    assert NotificationPreference.objects.filter(user=other_client.user, category="project", in_app=False).exists()
    assert theirs.json()["categories"]["billing"]["email"] is True
    assert theirs.json()["categories"]["project"]["in_app"] is False
    assert other_client.get(URL).json() == theirs.json()
    after = auth_client.get(URL).json()
    assert after == mine.json() and after["categories"]["project"]["in_app"] is True


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"categories": {"marketing": {"email": False}}}, "categories.marketing"),
        ({"categories": {"project": {"email": "sometimes"}}}, "categories.project.email"),
        ({"digest_frequency": "hourly"}, "digest_frequency"),
    ],
)
def test_bad_input_is_a_validation_error(auth_client, payload, field):
    body = assert_api_error(auth_client.put(URL, payload, format="json"), 400, "validation_error")
    assert field in body["fields"]


def test_requires_login(api_client):
    assert_api_error(api_client.get(URL), 401, "not_authenticated")
