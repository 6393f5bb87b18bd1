"""API2 Broken authentication: only a valid, unexpired, correctly signed access token gets in."""

from datetime import timedelta

import jwt
import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.support import assert_api_error

pytestmark = [pytest.mark.urls("tests.core.urls"), pytest.mark.django_db]
PROTECTED = "/api/v1/test/protected/"


def bearer(api_client, token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client.get(PROTECTED)


def test_a_token_signed_with_another_key_is_rejected(api_client, user):
    claims = dict(AccessToken.for_user(user).payload)
    forged = jwt.encode(claims, "not-our-signing-key-but-long-enough-for-hs256", algorithm="HS256")
    assert_api_error(bearer(api_client, forged), 401, "token_not_valid")


def test_an_unsigned_token_is_rejected(api_client, user):
    claims = dict(AccessToken.for_user(user).payload)
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert_api_error(bearer(api_client, unsigned), 401, "token_not_valid")


def test_a_refresh_token_is_not_an_access_token(api_client, user):
    assert_api_error(bearer(api_client, str(RefreshToken.for_user(user))), 401, "token_not_valid")


def test_an_expired_token_is_rejected(api_client, user):
    token = str(AccessToken.for_user(user))
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    with time_machine.travel(timezone.now() + lifetime + timedelta(seconds=5)):
        assert_api_error(bearer(api_client, token), 401, "token_not_valid")


def test_a_deactivated_user_is_rejected(api_client, user):
    token = str(AccessToken.for_user(user))
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = bearer(api_client, token)
    assert response.status_code == 401


def test_the_valid_token_gets_in(api_client, user):
    response = bearer(api_client, str(AccessToken.for_user(user)))
    assert response.status_code == 200 and response.json() == {"id": str(user.pk)}
