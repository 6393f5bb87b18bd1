"""token/, token/refresh/, logout/: credentials, rotation, blacklist, forged JWTs, inactive users."""

import base64
import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services
from accounts.models import AuthEvent
from tests.factories import UserFactory
from tests.openapi import SchemaCheckedClient
from tests.security.route_matrix import covers_route
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"


def login(client, email, password):
    return client.post(LOGIN, {"email": email, "password": password}, format="json")


def bearer(access):
    client = SchemaCheckedClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unb64(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_login_returns_a_working_pair_and_logs_the_event(api_client, user, password):
    response = login(api_client, user.email.upper(), password)
    assert response.status_code == 200
    pair = response.json()
    assert set(pair) == {"access", "refresh"}
    me = bearer(pair["access"]).get(ME)
    assert me.status_code == 200 and me.json()["email"] == user.email
    assert "password" not in me.json()
    event = AuthEvent.objects.get(type="login_succeeded")
    assert event.user == user and event.ip == "127.0.0.1"
    user.refresh_from_db()
    assert user.last_login is not None


def test_access_token_lifetime_is_short(api_client, user, password):
    access = login(api_client, user.email, password).json()["access"]
    claims = unb64(access.split(".")[1])
    assert 5 * 60 <= claims["exp"] - claims["iat"] <= 15 * 60


def test_login_works_before_verification(api_client, password):
    unverified = UserFactory(email_verified=False)
    assert login(api_client, unverified.email, password).status_code == 200


@covers_route("accounts:token", "anonymous", methods=("post",))
@pytest.mark.parametrize("case", ["wrong_password", "unknown_email", "inactive"])
def test_login_failures_share_one_answer(api_client, user, password, case):
    email, pw = user.email, password
    if case == "wrong_password":
        pw = "not-the-password"
    elif case == "unknown_email":
        email = "nobody@example.com"
    else:
        user.is_active = False
        user.save()
    response = login(api_client, email, pw)
    body = assert_api_error(response, 401, "invalid_credentials")
    assert body == {"code": "invalid_credentials", "message": "No active account found with the given credentials."}
    event = AuthEvent.objects.get(type="login_failed")
    assert event.email == email
    assert event.user == (None if case == "unknown_email" else user)


def test_login_validation(api_client):
    assert_api_error(api_client.post(LOGIN, {"email": "x@example.com"}, format="json"), 400, "validation_error")


@covers_route("accounts:token-refresh", "anonymous", methods=("post",))
def test_refresh_rotates_and_blacklists_the_old_token(api_client, user, password):
    pair = login(api_client, user.email, password).json()
    response = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 200
    new = response.json()
    assert set(new) == {"access", "refresh"} and new["refresh"] != pair["refresh"]
    assert bearer(new["access"]).get(ME).status_code == 200
    # the old refresh token is spent
    assert_api_error(api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json"), 401, "token_not_valid")
    # the new one works once
    assert api_client.post(REFRESH, {"refresh": new["refresh"]}, format="json").status_code == 200


def test_refresh_token_expires(api_client, user, password, settings):
    refresh = login(api_client, user.email, password).json()["refresh"]
    later = timezone.now() + settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        assert_api_error(api_client.post(REFRESH, {"refresh": refresh}, format="json"), 401, "token_not_valid")


def test_access_token_expires(api_client, user, password, settings):
    access = login(api_client, user.email, password).json()["access"]
    assert bearer(access).get(ME).status_code == 200  # verified once: remembered by this process
    later = timezone.now() + settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] + timedelta(seconds=5)
    with time_machine.travel(later, tick=False):
        assert_api_error(bearer(access).get(ME), 401, "token_not_valid")


def test_an_access_token_is_not_a_refresh_token(api_client, user, password):
    access = login(api_client, user.email, password).json()["access"]
    assert_api_error(api_client.post(REFRESH, {"refresh": access}, format="json"), 401, "token_not_valid")


def test_logout_blacklists_that_refresh_token(api_client, user, password):
    first = login(api_client, user.email, password).json()
    second = login(api_client, user.email, password).json()
    assert api_client.post(LOGOUT, {"refresh": first["refresh"]}, format="json").status_code == 204
    assert_api_error(api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json"), 401, "token_not_valid")
    # other sessions are untouched
    assert api_client.post(REFRESH, {"refresh": second["refresh"]}, format="json").status_code == 200
    assert AuthEvent.objects.filter(type="logout", user=user).exists()


@covers_route("accounts:logout", "anonymous", methods=("post",))
def test_logout_with_a_bad_token(api_client):
    assert_api_error(api_client.post(LOGOUT, {"refresh": "nope"}, format="json"), 401, "token_not_valid")
    assert_api_error(api_client.post(LOGOUT, {}, format="json"), 400, "validation_error")


def test_deactivated_user_cannot_refresh_or_use_access(api_client, user, password):
    pair = login(api_client, user.email, password).json()
    user.is_active = False
    user.save()
    assert_api_error(api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json"), 401, "account_inactive")
    assert_api_error(bearer(pair["access"]).get(ME), 401, "user_inactive")
    assert AuthEvent.objects.filter(type="refresh_rejected", user=user).exists()


def test_deactivate_service_revokes_refresh_tokens(api_client, user, password):
    pair = login(api_client, user.email, password).json()
    services.user_deactivate(user=user)
    user.is_active = True  # even if reactivated, the old sessions stay revoked
    user.save()
    assert_api_error(api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json"), 401, "token_not_valid")


def test_refresh_of_a_deleted_user_is_401_not_500(api_client, user, password):
    pair = login(api_client, user.email, password).json()
    OutstandingToken.objects.filter(user=user).update(user=None)
    user.delete()
    assert_api_error(api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json"), 401, "token_not_valid")


def test_revoke_all_blacklists_every_unexpired_token(api_client, user, password):
    pairs = [login(api_client, user.email, password).json() for _ in range(3)]
    assert services.tokens_revoke_all(user=user, reason="test") == 3
    assert services.tokens_revoke_all(user=user, reason="again") == 0
    for pair in pairs:
        assert_api_error(api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json"), 401, "token_not_valid")
    assert BlacklistedToken.objects.filter(token__user=user).count() == 3


# ------------------------------------------------------------------------------------------------
# Forged JWTs
# ------------------------------------------------------------------------------------------------
def test_alg_none_access_token_is_refused(api_client, user, password):
    access = login(api_client, user.email, password).json()["access"]
    claims = unb64(access.split(".")[1])
    forged = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    assert_api_error(bearer(forged).get(ME), 401, "token_not_valid")


def test_alg_none_refresh_token_is_refused(api_client, user, password):
    refresh = login(api_client, user.email, password).json()["refresh"]
    claims = unb64(refresh.split(".")[1])
    claims["jti"] = "f" * 32
    forged = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    assert_api_error(api_client.post(REFRESH, {"refresh": forged}, format="json"), 401, "token_not_valid")


def test_tampered_claims_break_the_signature(api_client, user, other_user, password):
    access = login(api_client, user.email, password).json()["access"]
    header, payload, signature = access.split(".")
    claims = unb64(payload)
    claims["user_id"] = str(other_user.pk)
    assert_api_error(bearer(f"{header}.{b64(claims)}.{signature}").get(ME), 401, "token_not_valid")


def test_tampered_signature_is_refused(api_client, user, password):
    refresh = login(api_client, user.email, password).json()["refresh"]
    header, payload, signature = refresh.split(".")
    bad = signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")
    assert_api_error(
        api_client.post(REFRESH, {"refresh": f"{header}.{payload}.{bad}"}, format="json"), 401, "token_not_valid"
    )


def test_token_signed_with_another_key_is_refused(api_client, user):
    import jwt

    now = int(timezone.now().timestamp())
    forged = jwt.encode(
        {"token_type": "access", "exp": now + 300, "iat": now, "jti": "a" * 32, "user_id": str(user.pk)},
        "someone-elses-secret-key-of-decent-length",
        algorithm="HS256",
    )
    assert_api_error(bearer(forged).get(ME), 401, "token_not_valid")


def test_access_token_of_a_deactivated_or_deleted_user_is_refused_with_its_code(api_client, user, password):
    """accounts.authentication reads the user with prepared SQL; simplejwt's checks still hold."""
    access = login(api_client, user.email, password).json()["access"]
    assert bearer(access).get(ME).status_code == 200
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert_api_error(bearer(access).get(ME), 401, "user_inactive")
    type(user).objects.filter(pk=user.pk).update(is_active=True)
    assert bearer(access).get(ME).status_code == 200
    other = UserFactory()
    token_of_deleted = str(AccessToken.for_user(other))
    other.delete()
    assert_api_error(bearer(token_of_deleted).get(ME), 401, "user_not_found")


def test_a_tampered_copy_of_a_remembered_token_is_refused(api_client, user, password):
    access = login(api_client, user.email, password).json()["access"]
    assert bearer(access).get(ME).status_code == 200
    header, payload, signature = access.split(".")
    claims = unb64(payload)
    claims["user_id"] = str(UserFactory().pk)
    assert_api_error(bearer(f"{header}.{b64(claims)}.{signature}").get(ME), 401, "token_not_valid")


def test_verified_tokens_are_remembered_and_refused_ones_are_not(api_client, user, password):
    from accounts.authentication import _verified_access_token

    access = login(api_client, user.email, password).json()["access"]
    _verified_access_token.cache_clear()
    assert bearer(access).get(ME).status_code == 200
    assert bearer(access).get(ME).status_code == 200
    info = _verified_access_token.cache_info()
    assert (info.misses, info.hits, info.currsize) == (1, 1, 1)
    assert_api_error(bearer(access[:-2] + "xx").get(ME), 401, "token_not_valid")
    assert _verified_access_token.cache_info().currsize == 1
