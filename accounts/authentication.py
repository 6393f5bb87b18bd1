"""The API's JWT authentication: simplejwt's, with the user read by one prepared SQL statement.

simplejwt loads the token's user with ``User.objects.get(id=...)`` on every authenticated request;
building and compiling that query cost about a sixth of the projects list's CPU
(docs/performance.md). ``core.rawsql.get_by_pk`` reads the same row, with the same converters, into
the same ``User`` instance. The checks are simplejwt's, unchanged: a token without a user claim is
invalid, a missing user is ``user_not_found``, an inactive one ``user_inactive``, and with
``CHECK_REVOKE_TOKEN`` a changed password ends the token.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from core import rawsql


class JWTAuthentication(authentication.JWTAuthentication):
    def get_user(self, validated_token: Any) -> Any:
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as e:
            raise InvalidToken(_("Token contained no recognizable user identification")) from e
        if api_settings.USER_ID_FIELD != self.user_model._meta.pk.name:
            return super().get_user(validated_token)  # only the primary key has a prepared read
        user = rawsql.get_by_pk(self.user_model, user_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN:
            if validated_token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
                raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return user


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of ``JWTAuthentication`` (drf-spectacular matches exact classes)."""

    target_class = "accounts.authentication.JWTAuthentication"
