"""The API's JWT authentication: simplejwt's, with verified tokens remembered and the user read by
one prepared SQL statement.

simplejwt loads the token's user with ``User.objects.get(id=...)`` on every authenticated request;
building and compiling that query cost about a sixth of the projects list's CPU
(docs/performance.md). ``core.rawsql.get_by_pk`` reads the same row, with the same converters, into
the same ``User`` instance. The checks are simplejwt's, unchanged: a token without a user claim is
invalid, a missing user is ``user_not_found``, an inactive one ``user_inactive``, and with
``CHECK_REVOKE_TOKEN`` a changed password ends the token (``password_changed``). Ours adds one:
a token issued before the user's ``token_version`` was raised (``tokens_revoke_all``: staff
"revoke sessions", deactivation, a password set, an email change undone) is ``token_revoked``.
Both compare the token with the row read on this request, so they hold for remembered tokens too.

Verifying an access token (base64, JSON, HMAC) costs about a tenth of the list's CPU, and a client
sends the same token for its whole 10-minute life. A token that verified once is kept per process
(``TOKEN_CACHE_SIZE``, least recently used dropped first): the same bytes signed by the same key
stay valid (simplejwt fixes its signing key when it loads, and so does this cache), so on reuse
only the time-dependent check — expiry — runs again. Anything that does not verify is never kept,
and every failure goes through simplejwt's own path for its error body.
"""

from __future__ import annotations

import functools
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import aware_utcnow, get_md5_hash_password

from core import rawsql
from core.models import IdempotencyRecord

TOKEN_CACHE_SIZE = 4096
# The user's token_version when the token was issued (absent: 0, a token from before the claim).
TOKEN_VERSION_CLAIM = "token_version"


def token_revoked(token: Any, user: Any) -> bool:
    """Whether ``token`` (access or refresh) was issued before the user's password or sessions changed."""
    if token.get(TOKEN_VERSION_CLAIM, 0) != user.token_version:
        return True
    return bool(
        api_settings.CHECK_REVOKE_TOKEN
        and token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password)
    )


@functools.lru_cache(maxsize=TOKEN_CACHE_SIZE)
def _verified_access_token(raw_token: bytes) -> AccessToken:
    """The decoded, verified token (signature, type, claims); a ``TokenError`` is not cached."""
    return AccessToken(raw_token)  # type: ignore[arg-type]


class JWTAuthentication(authentication.JWTAuthentication):
    def get_validated_token(self, raw_token: bytes) -> Any:
        if tuple(api_settings.AUTH_TOKEN_CLASSES) != (AccessToken,):
            return super().get_validated_token(raw_token)
        try:
            token = _verified_access_token(raw_token)
            token.check_exp(current_time=aware_utcnow())  # time moves on: expiry is checked every time
        except TokenError:
            return super().get_validated_token(raw_token)  # raises with simplejwt's messages
        return token

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
        if validated_token.get(TOKEN_VERSION_CLAIM, 0) != user.token_version:
            raise AuthenticationFailed(_("This session was ended. Please log in again."), code="token_revoked")
        return user


def idempotency_scope(request: Any) -> str | None:
    """``user:<id>`` for a request this authentication accepts now, else None (``core.idempotency``'s
    ``IDEMPOTENCY_SCOPE_RESOLVER``). The same checks as the view's: signature and expiry, an existing
    active user and, with ``CHECK_REVOKE_TOKEN``, a token issued after the last password change — so a
    stored answer is never replayed to a token that the view itself would refuse."""
    try:
        authenticated = JWTAuthentication().authenticate(request)
    except (AuthenticationFailed, InvalidToken, TokenError):
        return None  # the view answers 401
    return IdempotencyRecord.user_scope(authenticated[0].pk) if authenticated else None


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of ``JWTAuthentication`` (drf-spectacular matches exact classes)."""

    target_class = "accounts.authentication.JWTAuthentication"
