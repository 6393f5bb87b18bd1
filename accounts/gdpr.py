"""accounts' part of a user's data export and erasure (registered in ``AccountsConfig.ready``, like
every app's ``gdpr.py``), and the keyed digest the ``account_deleted`` event keeps of the address."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import SESSION_KEY
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import salted_hmac
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from .models import AuthEvent, User, normalize_email

# How the staff audit trail (the admin's history) names an account once it is erased.
ERASED_ACCOUNT = "(erased account)"


def erased_email_digest(email: str) -> str:
    """HMAC-SHA256 of the normalised address under ``ACCOUNTS_ERASURE_HMAC_KEY`` (else SECRET_KEY,
    with this purpose string). It answers "was this address's account erased, and when?" for whoever
    holds the key and the address, and cannot be reversed by hashing a list of addresses."""
    return salted_hmac(
        "stackpro.accounts.erased-email",
        normalize_email(email),
        secret=settings.ACCOUNTS_ERASURE_HMAC_KEY or settings.SECRET_KEY,
        algorithm="sha256",
    ).hexdigest()


def export_profile(user: User) -> dict[str, Any]:
    return {
        "id": str(user.pk),
        "email": user.email,
        "name": user.name,
        "email_verified": user.email_verified,
        "pending_email": user.pending_email,
        "is_active": user.is_active,
        "date_joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
    }


def _own_events(user: User) -> Any:
    emails = [e for e in (user.email, user.pending_email) if e]
    return AuthEvent.objects.filter(user=user) | AuthEvent.objects.filter(user__isnull=True, email__in=emails)


def export_auth_events(user: User) -> list[dict[str, Any]]:
    """The security log of the account, failed logins aimed at its address included."""
    return [
        {
            "type": e.type,
            "email": e.email,
            "ip": e.ip,
            "user_agent": e.user_agent,
            "created_at": e.created_at.isoformat(),
        }
        for e in _own_events(user).order_by("created_at")
    ]


def export_sessions(user: User) -> list[dict[str, Any]]:
    """Refresh tokens issued to the account (when, until when, whether revoked); not the tokens."""
    rows = OutstandingToken.objects.filter(user=user).order_by("created_at")
    return [
        {
            "created_at": row["created_at"].isoformat() if row["created_at"] else None,
            "expires_at": row["expires_at"].isoformat(),
            "revoked": row["blacklistedtoken__id"] is not None,
        }
        for row in rows.values("created_at", "expires_at", "blacklistedtoken__id")
    ]


def erase_user(user: User) -> None:
    """The auth events of the account (and failed logins aimed at its addresses), and its refresh
    tokens: ``user_erase`` revokes them first; the rows go too, since each token names the user id.
    The admin's history of staff changes to the account stays (who did what, when: the staff
    audit trail, the erasure itself included) without the account's id and address."""
    _own_events(user).delete()
    OutstandingToken.objects.filter(user=user).delete()  # their blacklist rows cascade
    # Admin sessions (staff only log in there): few rows, signed data that names the user id.
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get(SESSION_KEY) == str(user.pk):
            session.delete()
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)).update(
        object_id=None, object_repr=ERASED_ACCOUNT
    )
