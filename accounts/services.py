"""Writes of the accounts app: registration, verification, login and tokens, passwords, profile,
deactivation, and GDPR export/erasure. Views, the admin and commands all come through here.

Emails and notifications go through ``accounts.emails`` (the notifications app sends after commit).
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from core import registry
from core.errors import InvalidInput
from core.throttling import client_ip

from . import emails, gdpr, tokens
from .authentication import TOKEN_VERSION_CLAIM, token_revoked
from .errors import AccountInactive, EmailTaken, InvalidCredentials, RefreshTokenInvalid, TokenInvalid, WrongPassword
from .models import AuthEvent, AuthEventType, User, normalize_email

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Request metadata and the auth event log
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RequestMeta:
    """Who asked, for the auth event log: client IP (core.throttling.client_ip) and user agent."""

    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: Any) -> RequestMeta:
        ip: str | None = client_ip(request) or None
        try:
            ipaddress.ip_address(ip or "")
        except ValueError:
            ip = None
        return cls(ip=ip, user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:300])


def auth_event_log(
    *,
    type: str,
    user: User | None = None,
    email: str = "",
    meta: RequestMeta | None = None,
    data: dict[str, Any] | None = None,
) -> AuthEvent:
    meta = meta or RequestMeta()
    return AuthEvent.objects.create(
        type=type,
        user=user,
        email=(email or (user.email if user else ""))[:254],
        ip=meta.ip,
        user_agent=meta.user_agent,
        data=data or {},
    )


def _validate_password(password: str, *, user: User, field: str) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise InvalidInput("The password is not strong enough.", code="weak_password", fields={field: exc.messages})


def _full_clean(user: User) -> None:
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except DjangoValidationError as exc:
        raise InvalidInput("Some fields are invalid.", code="validation_error", fields=exc.message_dict)


# ---------------------------------------------------------------------------------------------
# Registration and email verification
# ---------------------------------------------------------------------------------------------
def user_register(*, email: str, password: str, name: str, meta: RequestMeta | None = None) -> tuple[User, bool]:
    """Create an unverified user and email a verification link; returns (user, created).

    An address that already has an account is not an error (that would enumerate accounts): its
    owner is emailed instead and the caller gets ``created=False``. Both paths hash the password.
    """
    email = normalize_email(email)
    candidate = User(email=email, name=name)
    _full_clean(candidate)
    _validate_password(password, user=candidate, field="password")
    candidate.password = make_password(password)
    existing = User.objects.filter(email=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                candidate.save()
                token = tokens.make(candidate, tokens.VERIFY_EMAIL)
                emails.send_verification(user=candidate, email=candidate.email, token=token)
                auth_event_log(type=AuthEventType.REGISTERED, user=candidate, meta=meta)
            return candidate, True
        except IntegrityError:  # registered concurrently
            existing = User.objects.get(email=email)
    with transaction.atomic():
        emails.send_already_registered(user=existing)
        auth_event_log(type=AuthEventType.REGISTERED, user=existing, meta=meta, data={"existing_account": True})
    return existing, False


@transaction.atomic
def email_revert(*, token: str, meta: RequestMeta | None = None) -> User:
    """Undo an email change from the link sent to the old address ("this wasn't me").

    Whoever changed it knew the password (a change needs it), so besides restoring the address
    (verified: the link proves the mailbox) this makes the password unusable, ends every session
    and sends a reset link to the restored address (staff: a superuser resets it). The link is
    refused once the account uses that address again; 409 ``email_taken`` if another account took
    the address meanwhile.
    """
    user, old_email = tokens.read(token, tokens.EMAIL_REVERT, max_age=settings.ACCOUNTS_EMAIL_REVERT_TOKEN_SECONDS)
    if user.email == old_email:
        raise TokenInvalid()
    if User.objects.filter(email=old_email).exclude(pk=user.pk).exists():
        raise EmailTaken()
    undone = user.email
    user.email, user.pending_email, user.email_verified = old_email, "", True
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "pending_email", "email_verified", "password", "updated_at"])
    except IntegrityError:
        raise EmailTaken()
    # User.save ended every session (a password was unset)
    auth_event_log(type=AuthEventType.EMAIL_REVERTED, user=user, meta=meta, data={"undone_email": undone})
    emails.notify_security(
        user=user,
        title="Your email change was undone",
        body=f"Your account uses {old_email} again and every device was signed out. Choose a new password.",
    )
    if not (user.is_staff or user.is_superuser):
        emails.send_password_reset(user=user, token=tokens.make(user, tokens.PASSWORD_RESET))
    return user


def verification_resend(*, email: str, meta: RequestMeta | None = None) -> None:
    """Send a new verification link if the address belongs to an active, unverified account."""
    email = normalize_email(email)
    user = User.objects.filter(email=email, is_active=True).first()
    if user is not None and not user.email_verified:
        with transaction.atomic():
            emails.send_verification(user=user, email=user.email, token=tokens.make(user, tokens.VERIFY_EMAIL))
    else:
        emails.render_decoy("accounts_verify_email")


@transaction.atomic
def email_verify(*, token: str, meta: RequestMeta | None = None) -> User:
    """Confirm the address a verification token was sent to: the account's own (first
    verification) or its pending new address (email change). The token then stops working."""
    user, email = tokens.read(token, tokens.VERIFY_EMAIL, max_age=settings.ACCOUNTS_VERIFY_EMAIL_TOKEN_SECONDS)
    if email == user.email and not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified", "updated_at"])
        auth_event_log(type=AuthEventType.EMAIL_VERIFIED, user=user, meta=meta)
        return user
    if email and email == user.pending_email:
        if User.objects.filter(email=email).exclude(pk=user.pk).exists():
            raise EmailTaken()
        old_email = user.email
        user.email, user.pending_email, user.email_verified = email, "", True
        try:
            with transaction.atomic():
                user.save(update_fields=["email", "pending_email", "email_verified", "updated_at"])
        except IntegrityError:
            raise EmailTaken()
        auth_event_log(type=AuthEventType.EMAIL_CHANGED, user=user, meta=meta, data={"old_email": old_email})
        emails.notify_security(user=user, title="Your email address was changed", body=f"It is now {email}.")
        emails.send_email_changed(
            user=user, old_email=old_email, token=tokens.make(user, tokens.EMAIL_REVERT, email=old_email)
        )
        return user
    raise TokenInvalid()


# ---------------------------------------------------------------------------------------------
# Login, refresh, logout, revocation
# ---------------------------------------------------------------------------------------------
def _token_pair(user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)  # also records the OutstandingToken; carries the password claim
    refresh[TOKEN_VERSION_CLAIM] = user.token_version  # copied into the access token
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def login(*, email: str, password: str, meta: RequestMeta | None = None) -> dict[str, str]:
    """Access and refresh tokens for valid credentials of an active user.

    Wrong password, unknown address and deactivated account all give the same InvalidCredentials;
    Django's ModelBackend hashes the password for unknown addresses too (similar timing).
    """
    email = normalize_email(email)
    user = authenticate(None, email=email, password=password)
    if user is None:
        known = User.objects.filter(email=email).first()
        auth_event_log(type=AuthEventType.LOGIN_FAILED, user=known, email=email, meta=meta)
        raise InvalidCredentials()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
        pair = _token_pair(user)
        auth_event_log(type=AuthEventType.LOGIN_SUCCEEDED, user=user, meta=meta)
    return pair


def _parse_refresh(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)  # type: ignore[arg-type]  # signature (HS256 only), expiry, type and blacklist
    except TokenError:
        raise RefreshTokenInvalid()


def token_refresh(*, raw: str, meta: RequestMeta | None = None) -> dict[str, str]:
    """Rotate: blacklist the presented refresh token and issue a new pair.

    The OutstandingToken row is locked and blacklisted with get_or_create, so two concurrent uses
    of one refresh token cannot both succeed. A deactivated or deleted user cannot refresh.
    """
    refresh = _parse_refresh(raw)
    user_id = refresh.payload.get(jwt_settings.USER_ID_CLAIM)
    with transaction.atomic():
        outstanding = OutstandingToken.objects.select_for_update().filter(jti=refresh[jwt_settings.JTI_CLAIM]).first()
        user = User.objects.filter(pk=user_id).first() if user_id else None
        if outstanding is None or user is None or token_revoked(refresh, user):
            raise RefreshTokenInvalid()
        if not user.is_active:
            inactive = True
        else:
            inactive = False
            _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
            if not created:
                raise RefreshTokenInvalid()
            pair = _token_pair(user)
    if inactive:
        auth_event_log(type=AuthEventType.REFRESH_REJECTED, user=user, meta=meta, data={"reason": "inactive"})
        raise AccountInactive()
    return pair


def logout(*, raw: str, meta: RequestMeta | None = None) -> None:
    """Blacklist one refresh token (its holder's proof is the token itself)."""
    refresh = _parse_refresh(raw)
    user_id = refresh.payload.get(jwt_settings.USER_ID_CLAIM)
    with transaction.atomic():
        refresh.blacklist()
        user = User.objects.filter(pk=user_id).first() if user_id else None
        auth_event_log(type=AuthEventType.LOGOUT, user=user, meta=meta)


def tokens_revoke_all(*, user: User, meta: RequestMeta | None = None, reason: str = "", log: bool = True) -> int:
    """End every session of ``user`` at once; returns how many refresh tokens were blacklisted.

    Blacklists every unexpired refresh token and raises ``token_version``, so every access token
    issued before stops at its next request (JWT authentication compares the claim with the row
    it reads anyway). Saving a new password calls this (``User.save``).
    """
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
        user.token_version = User.objects.values_list("token_version", flat=True).get(pk=user.pk)
        ids = list(
            OutstandingToken.objects.filter(
                user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
            ).values_list("id", flat=True)
        )
        BlacklistedToken.objects.bulk_create([BlacklistedToken(token_id=pk) for pk in ids], ignore_conflicts=True)
        if log:
            auth_event_log(
                type=AuthEventType.TOKENS_REVOKED, user=user, meta=meta, data={"count": len(ids), "reason": reason}
            )
    return len(ids)


def user_deactivate(*, user: User, meta: RequestMeta | None = None, actor: User | None = None) -> User:
    """Deactivate (cannot log in or refresh; access tokens stop at once) and revoke all sessions."""
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active", "updated_at"])
        tokens_revoke_all(user=user, meta=meta, reason="deactivated")
        auth_event_log(
            type=AuthEventType.DEACTIVATED, user=user, meta=meta, data={"by": str(actor.pk) if actor else "system"}
        )
    return user


# ---------------------------------------------------------------------------------------------
# Profile and passwords
# ---------------------------------------------------------------------------------------------
def profile_update(
    *,
    user: User,
    name: str | None = None,
    email: str | None = None,
    password: str | None = None,
    meta: RequestMeta | None = None,
) -> User:
    """Change the name at once; a new email only becomes the login once its link is confirmed.

    Any ``email`` needs the current ``password`` (an access token alone must not move the account
    to another mailbox). Asking for the current address cancels a pending change. Whether the new
    address is taken is checked on confirmation (only the mailbox owner learns it), never here.
    """
    if email is not None and not user.check_password(password or ""):
        auth_event_log(type=AuthEventType.LOGIN_FAILED, user=user, meta=meta, data={"during": "email_change"})
        raise WrongPassword("password")
    fields = ["updated_at"]
    new_email: str | None = None
    if name is not None:
        user.name = name
        fields.append("name")
    if email is not None:
        email = normalize_email(email)
        new_email = None if email == user.email else email
        user.pending_email = new_email or ""
        fields.append("pending_email")
    _full_clean(user)
    with transaction.atomic():
        user.save(update_fields=fields)
        if new_email:
            token = tokens.make(user, tokens.VERIFY_EMAIL, email=new_email)
            emails.send_verification(user=user, email=new_email, token=token)
            auth_event_log(
                type=AuthEventType.EMAIL_CHANGE_REQUESTED, user=user, meta=meta, data={"new_email": new_email}
            )
    return user


def password_change(*, user: User, old_password: str, new_password: str, meta: RequestMeta | None = None) -> None:
    """Change the password with the current one; every session of the user ends (User.save)."""
    if not user.check_password(old_password):
        auth_event_log(type=AuthEventType.LOGIN_FAILED, user=user, meta=meta, data={"during": "password_change"})
        raise WrongPassword("old_password")
    _validate_password(new_password, user=user, field="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])  # ends every session (User.save)
        auth_event_log(type=AuthEventType.PASSWORD_CHANGED, user=user, meta=meta)
        emails.notify_security(
            user=user,
            title="Your password was changed",
            body="Every device was signed out. If this was not you, reset your password now.",
        )


def password_reset_request(*, email: str, meta: RequestMeta | None = None) -> None:
    """Email a reset link to an active account's address; does the same work when there is none.

    Staff accounts are treated as unknown addresses: their passwords are reset by a superuser or
    ``manage.py changepassword`` only, so a mailbox (or the outbox) never leads to a staff login.
    """
    email = normalize_email(email)
    user = User.objects.filter(email=email, is_active=True, is_staff=False, is_superuser=False).first()
    with transaction.atomic():
        if user is not None:
            emails.send_password_reset(user=user, token=tokens.make(user, tokens.PASSWORD_RESET))
        else:
            emails.render_decoy("accounts_password_reset")
        auth_event_log(type=AuthEventType.PASSWORD_RESET_REQUESTED, user=user, email=email, meta=meta)


@transaction.atomic
def password_reset_confirm(*, token: str, new_password: str, meta: RequestMeta | None = None) -> User:
    """Set a new password from a reset link. The link proves the mailbox, so the email counts as
    verified; every refresh token is revoked; every earlier reset link dies with the old hash."""
    user, _ = tokens.read(token, tokens.PASSWORD_RESET, max_age=settings.ACCOUNTS_PASSWORD_RESET_TOKEN_SECONDS)
    if user.is_staff or user.is_superuser:  # a link made before the account became staff
        raise TokenInvalid()
    _validate_password(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.email_verified = True
    user.save(update_fields=["password", "email_verified", "updated_at"])  # ends every session (User.save)
    auth_event_log(type=AuthEventType.PASSWORD_RESET, user=user, meta=meta)
    emails.notify_security(
        user=user,
        title="Your password was reset",
        body="Every device was signed out. If this was not you, contact support.",
    )
    return user


# ---------------------------------------------------------------------------------------------
# GDPR: export and erasure (each app registers its part in core.registry)
# ---------------------------------------------------------------------------------------------
def user_export(user: User) -> dict[str, Any]:
    """Everything the product holds about ``user``: one section per registered exporter
    (accounts registers ``profile`` and ``auth_events``; other apps theirs)."""
    data: dict[str, Any] = {"exported_at": timezone.now().isoformat()}
    for section, exporter in registry.exporters().items():
        data[section] = exporter(user)
    return data


def user_erase(user: User, *, meta: RequestMeta | None = None, actor: User | None = None) -> None:
    """Erase ``user`` (GDPR), all or nothing: revoke every refresh token, run every registered
    eraser (they queue storage deletes and Stripe calls on commit), delete the user, and keep only
    an ``account_deleted`` event holding a keyed HMAC of the address (``gdpr.erased_email_digest``)
    — no id, no name, no address. The goodbye email is sent after commit and its outbox row is
    deleted once sent (docs/security.md "Erasure")."""
    email, name = user.email, user.name
    digest = gdpr.erased_email_digest(email)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        revoked = tokens_revoke_all(user=user, log=False)
        erasers = registry.erasers()
        for _name, eraser in erasers.items():
            eraser(user)
        user.delete()
        auth_event_log(
            type=AuthEventType.ACCOUNT_DELETED,
            meta=meta,
            data={
                "email_hmac": digest,
                "by": f"staff:{actor.pk}" if actor else "self",
                "erasers": list(erasers),
                "tokens_revoked": revoked,
            },
        )
        emails.send_account_deleted(email=email, name=name)
    logger.info("account erased (%s), address hmac %s…", "staff" if actor else "self", digest[:12])


def user_delete_self(*, user: User, password: str, meta: RequestMeta | None = None) -> None:
    """``DELETE me/``: erase the account after checking the current password."""
    if not user.check_password(password):
        auth_event_log(type=AuthEventType.LOGIN_FAILED, user=user, meta=meta, data={"during": "account_deletion"})
        raise WrongPassword("password")
    user_erase(user, meta=meta)
