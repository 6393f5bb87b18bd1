"""register/, verify-email/, verify-email/resend/: accounts, links, single-use expiring tokens."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail, signing
from django.utils import timezone

from accounts import tokens
from accounts.models import AuthEvent, User
from tests.accounts.conftest import STRONG_PASSWORD, last_mail_to, token_in
from tests.factories import UserFactory
from tests.security.route_matrix import covers_route
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
VERIFY = "/api/v1/auth/verify-email/"
RESEND = "/api/v1/auth/verify-email/resend/"


def register(call, api_client, email="New.Person@Example.com", password=STRONG_PASSWORD, **extra):
    return call(api_client, "post", REGISTER, {"email": email, "password": password, "name": "New Person", **extra})


def test_register_creates_an_unverified_user_and_sends_the_link(call, api_client, settings):
    response = register(call, api_client)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "name", "email_verified"}
    assert body["email"] == "new.person@example.com" and body["email_verified"] is False
    user = User.objects.get(pk=body["id"])
    assert user.check_password(STRONG_PASSWORD) and user.password != STRONG_PASSWORD
    message = last_mail_to("new.person@example.com")
    assert "Verify your email" in message.subject
    assert f"{settings.FRONTEND_URL}/verify-email?token=" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "/verify-email?token=" in html
    assert AuthEvent.objects.filter(type="registered", user=user).exists()


def test_register_is_case_insensitive_on_email(call, api_client):
    register(call, api_client, email="Someone@Example.com")
    register(call, api_client, email="someone@EXAMPLE.com")
    assert User.objects.filter(email="someone@example.com").count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "password": STRONG_PASSWORD, "name": "X"}, "email"),
        ({"email": "a@example.com", "password": "short", "name": "X"}, "password"),
        ({"email": "a@example.com", "password": "password123456", "name": "X"}, "password"),
        ({"email": "a@example.com", "password": "12345678901234", "name": "X"}, "password"),
        ({"email": "a@example.com", "name": "X"}, "password"),
        ({"email": "a@example.com", "password": STRONG_PASSWORD}, "name"),
    ],
)
def test_register_rejects_bad_input_with_the_field(call, api_client, payload, field):
    response = call(api_client, "post", REGISTER, payload)
    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()
    assert not User.objects.exists()
    assert mail.outbox == []


def test_password_similar_to_email_is_refused(call, api_client):
    response = register(call, api_client, email="marmaladesky@example.com", password="marmaladesky")
    body = assert_api_error(response, 400, "weak_password")
    assert "password" in body["fields"]


def test_register_ignores_privileged_fields(call, api_client):
    forced = "11111111-1111-1111-1111-111111111111"
    response = register(
        call, api_client, id=forced, email_verified=True, is_staff=True, is_superuser=True, is_active=False
    )
    assert response.status_code == 201
    user = User.objects.get(email="new.person@example.com")
    assert str(user.pk) != forced
    assert (user.email_verified, user.is_staff, user.is_superuser, user.is_active) == (False, False, False, True)


def test_verify_email_marks_verified_once(call, api_client):
    register(call, api_client)
    token = token_in(last_mail_to("new.person@example.com"))
    response = call(api_client, "post", VERIFY, {"token": token})
    assert response.status_code == 200
    assert response.json()["email_verified"] is True
    assert User.objects.get(email="new.person@example.com").email_verified
    assert_api_error(call(api_client, "post", VERIFY, {"token": token}), 400, "token_invalid")


def test_verify_token_expires(call, api_client, settings):
    register(call, api_client)
    token = token_in(last_mail_to("new.person@example.com"))
    later = timezone.now() + timedelta(seconds=settings.ACCOUNTS_VERIFY_EMAIL_TOKEN_SECONDS + 5)
    with time_machine.travel(later, tick=False):
        body = assert_api_error(call(api_client, "post", VERIFY, {"token": token}), 400, "token_expired")
    assert "token" in body["fields"]
    assert not User.objects.get(email="new.person@example.com").email_verified


@covers_route("accounts:verify-email", "anonymous", methods=("post",))
@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # tampered signature
        lambda t: "garbage",
        lambda t: "",
        # a well-formed token signed with another key
        lambda t: signing.dumps({"u": "x", "e": "y", "s": "z"}, key="not-our-key", salt=tokens.VERIFY_EMAIL),
        # a genuine password-reset token is not a verification token
        lambda t: "RESET",
    ],
)
def test_forged_verification_tokens_are_refused(call, api_client, forge):
    register(call, api_client)
    user = User.objects.get(email="new.person@example.com")
    token = token_in(last_mail_to(user.email))
    forged = forge(token)
    if forged == "RESET":
        forged = tokens.make(user, tokens.PASSWORD_RESET)
    response = call(api_client, "post", VERIFY, {"token": forged})
    assert response.status_code == 400
    assert response.json()["code"] in ("token_invalid", "validation_error")
    assert not User.objects.get(pk=user.pk).email_verified


def test_verification_token_for_a_deleted_user_is_invalid(call, api_client):
    register(call, api_client)
    token = token_in(last_mail_to("new.person@example.com"))
    User.objects.all().delete()
    assert_api_error(call(api_client, "post", VERIFY, {"token": token}), 400, "token_invalid")


def test_resend_sends_a_new_link_to_unverified_users_only(call, api_client):
    unverified = UserFactory(email_verified=False)
    verified = UserFactory(email_verified=True)
    for user in (unverified, verified):
        response = call(api_client, "post", RESEND, {"email": user.email.upper()})
        assert response.status_code == 202
    assert [m.to for m in mail.outbox] == [[unverified.email]]
    token = token_in(mail.outbox[0])
    assert call(api_client, "post", VERIFY, {"token": token}).status_code == 200
    unverified.refresh_from_db()
    assert unverified.email_verified


def test_resend_to_unknown_address_is_202_and_sends_nothing(call, api_client):
    response = call(api_client, "post", RESEND, {"email": "nobody@example.com"})
    assert response.status_code == 202
    assert mail.outbox == []


def test_resend_requires_a_valid_email(call, api_client):
    assert_api_error(call(api_client, "post", RESEND, {"email": "nope"}), 400, "validation_error")
