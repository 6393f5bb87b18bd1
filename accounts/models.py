"""The user (email is the login, case-insensitive; UUID id; a single name) and the auth event log."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


def normalize_email(email: str) -> str:
    """The whole address lower-cased and trimmed: one account per mailbox, whatever the case."""
    return (email or "").strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email(username or ""))

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("email_verified", True)
        if not extra["is_staff"] or not extra["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser set.")
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", max_length=254, unique=True)
    name = models.CharField(max_length=150, blank=True)
    email_verified = models.BooleanField(default=False)
    # A new address waiting for its verification link; the login email changes only on confirmation.
    pending_email = models.EmailField(max_length=254, blank=True, default="")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    # Raised by accounts.services.tokens_revoke_all; a JWT issued under an older value is refused.
    token_version = models.PositiveIntegerField(default=0, editable=False)
    date_joined = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["-date_joined"]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A password set by ``set_password`` (the API, a reset link, the admin's form, the
        ``changepassword`` command, a shell) ends every session of the account once saved."""
        self.email = normalize_email(self.email)
        raw_set = getattr(self, "_password", None) is not None  # Django's mark of set_password()
        password_set = (raw_set or self._password_unset) and not self._state.adding
        self._password_unset = False
        super().save(*args, **kwargs)
        if password_set:
            from .services import tokens_revoke_all

            tokens_revoke_all(user=self, reason="password_set")

    _password_unset = False

    def set_unusable_password(self) -> None:
        super().set_unusable_password()
        self._password_unset = True  # Django marks set_password only (``_password``)

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email


class AuthEventType(models.TextChoices):
    REGISTERED = "registered", "Registered"
    LOGIN_SUCCEEDED = "login_succeeded", "Login succeeded"
    LOGIN_FAILED = "login_failed", "Login failed"
    LOGOUT = "logout", "Logout"
    REFRESH_REJECTED = "refresh_rejected", "Refresh rejected"
    EMAIL_VERIFIED = "email_verified", "Email verified"
    EMAIL_CHANGE_REQUESTED = "email_change_requested", "Email change requested"
    EMAIL_CHANGED = "email_changed", "Email changed"
    EMAIL_REVERTED = "email_reverted", "Email change undone"
    PASSWORD_CHANGED = "password_changed", "Password changed"
    PASSWORD_RESET_REQUESTED = "password_reset_requested", "Password reset requested"
    PASSWORD_RESET = "password_reset", "Password reset"
    TOKENS_REVOKED = "tokens_revoked", "Tokens revoked"
    DEACTIVATED = "deactivated", "Deactivated"
    ACCOUNT_DELETED = "account_deleted", "Account deleted"


class AuthEvent(models.Model):
    """One security-relevant event. ``user`` is null for unknown emails and after erasure."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=32, choices=AuthEventType.choices)
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="auth_events", db_index=True
    )
    email = models.CharField("email attempted", max_length=254, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="authevent_user_created_idx"),
            models.Index(fields=["type", "-created_at"], name="authevent_type_created_idx"),
            models.Index(fields=["email"], name="authevent_email_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.email or self.user_id or ''} {self.created_at:%Y-%m-%d %H:%M}"
