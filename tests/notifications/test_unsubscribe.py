"""Unsubscribe without login: signed tokens (user + category), GET describes, POST (RFC 8058
one-click) unsubscribes; forged, tampered, foreign-salt and locked-category tokens are rejected."""

from __future__ import annotations

import base64
import json

import pytest
from django.core import mail, signing
from django.urls import reverse

from notifications.models import EmailDelivery
from notifications.services import UNSUBSCRIBE_SALT, notify, preference_for, preferences_get, unsubscribe_token
from tests.nothing_changed import nothing_changed
from tests.security.route_matrix import covers_route
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db


def url(token: str) -> str:
    return reverse("notifications:unsubscribe", kwargs={"token": token})


@covers_route("notifications:unsubscribe", "anonymous", methods=("get",))
def test_get_describes_and_changes_nothing(api_client, user):
    token = unsubscribe_token(user=user, category="project")
    response = api_client.get(url(token))
    assert response.status_code == 200
    assert response.json() == {"category": "project", "subscribed": True, "email": f"{user.email[0]}***@example.com"}
    assert preference_for(user=user, category="project").email is True


@covers_route("notifications:unsubscribe", "anonymous", methods=("post",))
def test_one_click_post_unsubscribes_without_login(api_client, user, django_capture_on_commit_callbacks):
    token = unsubscribe_token(user=user, category="project")
    # exactly what a mail client sends for List-Unsubscribe-Post (RFC 8058)
    response = api_client.post(
        url(token), data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["subscribed"] is False
    prefs = preferences_get(user=user)["categories"]
    assert prefs["project"] == {"in_app": True, "email": False, "locked": False}
    assert prefs["billing"]["email"] is True  # only that category

    # idempotent, and the next project notification is in-app only
    assert api_client.post(url(token)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, category="project", title="Added to Apollo")
    assert mail.outbox == [] and not EmailDelivery.objects.exists()


def test_the_link_from_a_real_email_works(api_client, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, category="assistant", title="Quota at 80%")
    header = mail.outbox[0].extra_headers["List-Unsubscribe"]
    path = header.strip("<>").split("localhost:8000", 1)[1]
    assert api_client.post(path).json() == {"category": "assistant", "subscribed": False, "email": "u***@example.com"}
    assert preference_for(user=user, category="assistant").email is False


def test_digest_token_turns_the_digest_off(api_client, user, auth_client):
    auth_client.put(reverse("notifications:preferences"), {"digest_frequency": "daily"}, format="json")
    token = unsubscribe_token(user=user, category="digest")
    assert api_client.get(url(token)).json()["subscribed"] is True
    assert api_client.post(url(token)).json()["subscribed"] is False
    assert preferences_get(user=user)["digest_frequency"] == "off"


@covers_route("notifications:unsubscribe", "anonymous", methods=("get", "post"))
def test_forged_token_is_rejected(api_client, user):
    forged = signing.dumps({"u": str(user.pk), "c": "project"}, salt=UNSUBSCRIBE_SALT, key="attacker-key")
    with nothing_changed():
        for token in ("not-a-token", forged):
            assert_api_error(api_client.get(url(token)), 400, "unsubscribe_token_invalid")
            assert_api_error(api_client.post(url(token)), 400, "unsubscribe_token_invalid")
    assert preference_for(user=user, category="project").email is True


def test_token_edited_to_another_user_is_rejected(api_client, user, other_user):
    token = unsubscribe_token(user=user, category="billing")
    payload, _, signature = token.rpartition(":")
    payload_b64 = payload.split(":")[0]
    padded = payload_b64 + "=" * (-len(payload_b64) % 4)
    data = json.loads(base64.urlsafe_b64decode(padded))
    data["u"] = str(other_user.pk)
    swapped = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")
    tampered = token.replace(payload_b64, swapped, 1)
    assert tampered != token
    assert_api_error(api_client.post(url(tampered)), 400, "unsubscribe_token_invalid")
    assert preference_for(user=other_user, category="billing").email is True
    assert preference_for(user=user, category="billing").email is True


def test_each_token_only_touches_its_own_user(api_client, user, other_user):
    api_client.post(url(unsubscribe_token(user=other_user, category="billing")))
    assert preference_for(user=other_user, category="billing").email is False
    assert preference_for(user=user, category="billing").email is True


def test_token_signed_for_another_purpose_is_rejected(api_client, user):
    other_purpose = signing.dumps({"u": str(user.pk), "c": "project"}, salt="accounts.password-reset")
    assert_api_error(api_client.post(url(other_purpose)), 400, "unsubscribe_token_invalid")


@pytest.mark.parametrize("category", ["security", "marketing"])
def test_token_for_a_locked_or_unknown_category_is_rejected(api_client, user, category):
    token = signing.dumps({"u": str(user.pk), "c": category}, salt=UNSUBSCRIBE_SALT)
    assert_api_error(api_client.post(url(token)), 400, "unsubscribe_token_invalid")


def test_token_of_a_deleted_user_is_rejected(api_client, user):
    token = unsubscribe_token(user=user, category="project")
    user.delete()
    assert_api_error(api_client.get(url(token)), 400, "unsubscribe_token_invalid")


def test_a_bearer_token_is_not_needed_and_not_checked(api_client, user):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer garbage")
    assert api_client.post(url(unsubscribe_token(user=user, category="product"))).status_code == 200
