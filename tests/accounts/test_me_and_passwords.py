"""me/ (profile, email change by re-verification, mass assignment), password change and reset."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts import tokens
from accounts.models import AuthEvent, User
from notifications.models import Notification
from tests.accounts.conftest import STRONG_PASSWORD, last_mail_to, token_in
from tests.conftest import client_for
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.security.route_matrix import covers_route
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"
VERIFY = "/api/v1/auth/verify-email/"
LOGIN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
CHANGE = "/api/v1/auth/password/change/"
RESET = "/api/v1/auth/password/reset/"
RESET_CONFIRM = "/api/v1/auth/password/reset/confirm/"


def test_me_returns_own_profile_only(auth_client, user, other_user):
    body = auth_client.get(ME).json()
    assert body == {
        "id": str(user.pk),
        "email": user.email,
        "name": user.name,
        "email_verified": True,
        "pending_email": "",
        "date_joined": body["date_joined"],
    }
    assert other_user.email not in str(body)


def test_me_requires_authentication(api_client):
    assert_api_error(api_client.get(ME), 401, "not_authenticated")


def test_patch_changes_the_name(call, auth_client, user):
    response = call(auth_client, "patch", ME, {"name": "Ada Lovelace"})
    assert response.status_code == 200 and response.json()["name"] == "Ada Lovelace"
    user.refresh_from_db()
    assert user.name == "Ada Lovelace"
    assert_api_error(call(auth_client, "patch", ME, {"name": "x" * 151}), 400, "validation_error")


def test_name_length_is_that_of_the_string_as_sent(call, auth_client, user):
    """Found by the full fuzz run: DRF trimmed before counting, so 151+ characters passed maxLength 150."""
    body = assert_api_error(call(auth_client, "patch", ME, {"name": "\x1e" + "x" * 150}), 400, "validation_error")
    assert body["fields"] == {"name": ["Ensure this field has no more than 150 characters."]}
    response = call(auth_client, "patch", ME, {"name": "  " + "x" * 147 + " "})
    assert response.status_code == 200 and response.json()["name"] == "x" * 147  # stored trimmed
    for refused in ("\x1c\u3000", "Ada\x00"):  # blank once trimmed; NUL: both stated in the schema's pattern
        assert_api_error(call(auth_client, "patch", ME, {"name": refused}), 400, "validation_error")


def test_patch_ignores_privileged_fields(call, auth_client, user):
    user.email_verified = False
    user.save()
    before_id = user.pk
    response = call(
        auth_client,
        "patch",
        ME,
        {
            "id": "11111111-1111-1111-1111-111111111111",
            "email_verified": True,
            "is_staff": True,
            "is_superuser": True,
            "is_active": False,
            "plan_code": "enterprise",
            "max_projects": 1000,
            "password": "hijacked-password-123",
            "date_joined": "2000-01-01T00:00:00Z",
            "name": "Still Me",
        },
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.pk == before_id and user.name == "Still Me"
    assert (user.email_verified, user.is_staff, user.is_superuser, user.is_active) == (False, False, False, True)
    assert not user.check_password("hijacked-password-123")
    assert user.date_joined.year != 2000


def test_email_change_waits_for_the_new_address_to_confirm(call, auth_client, user, password, api_client):
    old = user.email
    response = call(auth_client, "patch", ME, {"email": "New@Example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert response.json()["email"] == old and response.json()["pending_email"] == "new@example.com"
    message = last_mail_to("new@example.com")
    assert "Confirm your new email" in message.subject
    # the old address still logs in; the new one does not yet
    assert api_client.post(LOGIN, {"email": old, "password": password}, format="json").status_code == 200
    not_yet = api_client.post(LOGIN, {"email": "new@example.com", "password": password}, format="json")
    assert_api_error(not_yet, 401, "invalid_credentials")

    response = call(api_client, "post", VERIFY, {"token": token_in(message)})
    assert response.status_code == 200 and response.json()["email"] == "new@example.com"
    user.refresh_from_db()
    assert (user.email, user.pending_email, user.email_verified) == ("new@example.com", "", True)
    assert api_client.post(LOGIN, {"email": "new@example.com", "password": password}, format="json").status_code == 200
    assert AuthEvent.objects.filter(type="email_changed", user=user).exists()
    assert Notification.objects.filter(user=user, category="security").exists()
    # used once
    assert_api_error(call(api_client, "post", VERIFY, {"token": token_in(message)}), 400, "token_invalid")


def test_a_newer_email_change_supersedes_the_older_link(call, auth_client, user, api_client):
    call(auth_client, "patch", ME, {"email": "first@example.com", "password": DEFAULT_PASSWORD})
    first = token_in(last_mail_to("first@example.com"))
    call(auth_client, "patch", ME, {"email": "second@example.com", "password": DEFAULT_PASSWORD})
    assert_api_error(call(api_client, "post", VERIFY, {"token": first}), 400, "token_invalid")
    user.refresh_from_db()
    assert user.pending_email == "second@example.com"


def test_asking_for_the_current_email_cancels_a_pending_change(call, auth_client, user):
    call(auth_client, "patch", ME, {"email": "first@example.com", "password": DEFAULT_PASSWORD})
    response = call(auth_client, "patch", ME, {"email": user.email.upper(), "password": DEFAULT_PASSWORD})
    assert response.json()["pending_email"] == ""


def test_email_change_to_a_taken_address_fails_only_at_confirmation(call, auth_client, user, other_user, api_client):
    response = call(auth_client, "patch", ME, {"email": other_user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200  # the requester does not learn the address is taken
    token = token_in(last_mail_to(other_user.email))
    assert_api_error(call(api_client, "post", VERIFY, {"token": token}), 409, "email_taken")
    user.refresh_from_db()
    assert user.email != other_user.email


# ------------------------------------------------------------------------------------------------
# password/change/
# ------------------------------------------------------------------------------------------------
def test_password_change_revokes_every_refresh_token(call, api_client, user, password):
    sessions = [api_client.post(LOGIN, {"email": user.email, "password": password}, format="json").json() for _ in "ab"]
    client = client_for(user)
    response = call(client, "post", CHANGE, {"old_password": password, "new_password": STRONG_PASSWORD})
    assert response.status_code == 204
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)
    for session in sessions:
        assert_api_error(
            api_client.post(REFRESH, {"refresh": session["refresh"]}, format="json"), 401, "token_not_valid"
        )
    old_password = api_client.post(LOGIN, {"email": user.email, "password": password}, format="json")
    assert_api_error(old_password, 401, "invalid_credentials")
    assert AuthEvent.objects.filter(type="password_changed", user=user).exists()
    assert Notification.objects.filter(user=user, category="security", title__icontains="password").exists()


def test_password_change_with_wrong_old_password(call, auth_client, user, password):
    body = assert_api_error(
        call(auth_client, "post", CHANGE, {"old_password": "wrong-one", "new_password": STRONG_PASSWORD}),
        400,
        "wrong_password",
    )
    assert "old_password" in body["fields"]
    user.refresh_from_db()
    assert user.check_password(password)


def test_password_change_validates_the_new_password(call, auth_client, password):
    body = assert_api_error(
        call(auth_client, "post", CHANGE, {"old_password": password, "new_password": "abc"}), 400, "weak_password"
    )
    assert "new_password" in body["fields"]


def test_password_change_needs_authentication(call, api_client):
    assert_api_error(
        call(api_client, "post", CHANGE, {"old_password": "a", "new_password": "b"}), 401, "not_authenticated"
    )


# ------------------------------------------------------------------------------------------------
# password/reset/ and password/reset/confirm/
# ------------------------------------------------------------------------------------------------
def request_reset(call, api_client, email):
    response = call(api_client, "post", RESET, {"email": email})
    assert response.status_code == 202
    return response


def test_reset_flow_sets_the_password_and_revokes_sessions(call, api_client, password, settings):
    user = UserFactory(email_verified=False)
    session = api_client.post(LOGIN, {"email": user.email, "password": password}, format="json").json()
    request_reset(call, api_client, user.email.upper())
    message = last_mail_to(user.email)
    assert f"{settings.FRONTEND_URL}/reset-password?token=" in message.body
    assert message.alternatives and message.alternatives[0][1] == "text/html"
    token = token_in(message)

    response = call(api_client, "post", RESET_CONFIRM, {"token": token, "new_password": STRONG_PASSWORD})
    assert response.status_code == 204
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD) and user.email_verified
    assert_api_error(api_client.post(REFRESH, {"refresh": session["refresh"]}, format="json"), 401, "token_not_valid")
    assert Notification.objects.filter(user=user, category="security", title__icontains="reset").exists()
    assert AuthEvent.objects.filter(type="password_reset", user=user).exists()
    # single use: the password hash changed
    assert_api_error(
        call(api_client, "post", RESET_CONFIRM, {"token": token, "new_password": "Another-Fine-Pass-9"}),
        400,
        "token_invalid",
    )


def test_reset_link_dies_when_the_password_changes_otherwise(call, api_client, user, password):
    request_reset(call, api_client, user.email)
    token = token_in(last_mail_to(user.email))
    call(client_for(user), "post", CHANGE, {"old_password": password, "new_password": STRONG_PASSWORD})
    assert_api_error(
        call(api_client, "post", RESET_CONFIRM, {"token": token, "new_password": "Another-Fine-Pass-9"}),
        400,
        "token_invalid",
    )


def test_reset_token_expires(call, api_client, user, settings, password):
    request_reset(call, api_client, user.email)
    token = token_in(last_mail_to(user.email))
    later = timezone.now() + timedelta(seconds=settings.ACCOUNTS_PASSWORD_RESET_TOKEN_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        response = call(api_client, "post", RESET_CONFIRM, {"token": token, "new_password": STRONG_PASSWORD})
    assert_api_error(response, 400, "token_expired")
    user.refresh_from_db()
    assert user.check_password(password)


@covers_route("accounts:password-reset-confirm", "anonymous", methods=("post",))
def test_forged_or_cross_purpose_reset_tokens_are_refused(call, api_client, user):
    verification = tokens.make(user, tokens.VERIFY_EMAIL)
    for token in (verification, "x" * 40, verification[:-3] + "abc"):
        response = call(api_client, "post", RESET_CONFIRM, {"token": token, "new_password": STRONG_PASSWORD})
        assert_api_error(response, 400, "token_invalid")


def test_reset_confirm_validates_the_new_password(call, api_client, user):
    request_reset(call, api_client, user.email)
    token = token_in(last_mail_to(user.email))
    body = assert_api_error(
        call(api_client, "post", RESET_CONFIRM, {"token": token, "new_password": "123"}), 400, "weak_password"
    )
    assert "new_password" in body["fields"]
    # the link still works after a rejected password
    assert call(api_client, "post", RESET_CONFIRM, {"token": token, "new_password": STRONG_PASSWORD}).status_code == 204
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)


def test_reset_for_an_inactive_account_sends_nothing(call, api_client):
    inactive = UserFactory(is_active=False)
    request_reset(call, api_client, inactive.email)
    assert mail.outbox == []


def test_reset_token_of_a_deactivated_user_is_refused(call, api_client, user):
    request_reset(call, api_client, user.email)
    token = token_in(last_mail_to(user.email))
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = call(api_client, "post", RESET_CONFIRM, {"token": token, "new_password": STRONG_PASSWORD})
    assert_api_error(response, 400, "token_invalid")
