"""Single-use, expiring tokens for email verification and password reset.

A token is a signed, timestamped payload (``django.core.signing``: HMAC-SHA256 with SECRET_KEY and
a per-purpose salt) holding the user id, the address it is for and a fingerprint of the account
state it was issued against:

- verification: the email, ``email_verified`` and ``pending_email`` — verifying (or asking for
  another change) changes the state, so a used or superseded link stops working;
- reset: the password hash — once the password changes (by this link or any other way) every reset
  link issued before is dead, like Django's PasswordResetTokenGenerator;
- email revert (sent to the old address after a change): the user id only, so whoever changed the
  address cannot kill the link by changing the email or password again; the revert refuses it
  once the account uses the old address again (``services.email_revert``).

Nothing is stored. ``read`` raises ``TokenExpired`` for a genuine but old token and ``TokenInvalid``
for anything else (forged, malformed, used, superseded, unknown user).
"""

from __future__ import annotations

import uuid

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from .errors import TokenExpired, TokenInvalid
from .models import User

VERIFY_EMAIL = "accounts.verify-email"
PASSWORD_RESET = "accounts.password-reset"
EMAIL_REVERT = "accounts.email-revert"


def _state(user: User, purpose: str) -> str:
    if purpose == VERIFY_EMAIL:
        raw = f"{user.email}|{user.email_verified}|{user.pending_email}|{user.is_active}"
    elif purpose == EMAIL_REVERT:
        raw = str(user.pk)
    else:
        raw = f"{user.password}|{user.email}|{user.is_active}"
    return salted_hmac(purpose + ".state", raw, algorithm="sha256").hexdigest()[:32]


def make(user: User, purpose: str, *, email: str | None = None) -> str:
    """A token for ``user``; ``email`` is the address it verifies (the pending one for a change)."""
    payload = {"u": str(user.pk), "e": email or user.email, "s": _state(user, purpose)}
    return signing.dumps(payload, salt=purpose, compress=True)


def read(token: str, purpose: str, *, max_age: int) -> tuple[User, str]:
    """The user and the address the token is for, or TokenExpired/TokenInvalid."""
    try:
        payload = signing.loads(str(token), salt=purpose, max_age=max_age)
    except signing.SignatureExpired:
        raise TokenExpired()
    except (signing.BadSignature, ValueError, TypeError):
        raise TokenInvalid()
    if not isinstance(payload, dict) or not all(isinstance(payload.get(k), str) for k in ("u", "e", "s")):
        raise TokenInvalid()
    try:
        user = User.objects.select_for_update().get(pk=uuid.UUID(payload["u"]))
    except (User.DoesNotExist, ValueError):
        raise TokenInvalid()
    if not user.is_active or not constant_time_compare(payload["s"], _state(user, purpose)):
        raise TokenInvalid()
    return user, payload["e"]
