"""The admin login form: throttled per client IP and per account, with a TOTP code when required."""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django_otp.forms import OTPAuthenticationFormMixin

from accounts.models import normalize_email
from core.throttling import client_ip, hit, parse_rate


def two_factor_required() -> bool:
    return bool(getattr(settings, "ADMIN_REQUIRE_2FA", False))


class ConsoleLoginForm(OTPAuthenticationFormMixin, AdminAuthenticationForm):
    otp_token = forms.CharField(
        label="Authenticator code",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": "Too many login attempts. Try again in %(seconds)s seconds.",
        # With the second factor on, every failure answers this, so the page never tells whether
        # the password was right (a wrong password, a missing code, a wrong code, no device).
        "invalid_login_2fa": (
            "Please enter the correct email address, password and authenticator code for a staff "
            "account. (No authenticator yet? Ask a superuser to set one up.)"
        ),
    }

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        if not two_factor_required():
            del self.fields["otp_token"]

    @property
    def otp_required(self) -> bool:
        return "otp_token" in self.fields

    def _throttle(self) -> None:
        """Count this attempt against the client IP and the account; refuse past either limit."""
        username = normalize_email(self.data.get("username", ""))
        account = hashlib.sha256(username.encode()).hexdigest()[:32]
        checks = [
            (f"admin-login:ip:{client_ip(self.request)}", settings.ADMIN_LOGIN_THROTTLE_IP),
            (f"admin-login:user:{account}", settings.ADMIN_LOGIN_THROTTLE_USER),
        ]
        wait = 0
        for key, rate in checks:
            limit, window = parse_rate(rate)
            allowed, retry_after = hit(key, limit, window, security=True)
            if not allowed:
                wait = max(wait, retry_after)
        if wait:
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled", params={"seconds": wait})

    def clean(self) -> dict[str, Any]:
        self._throttle()
        if not self.otp_required:
            return super().clean()
        try:
            cleaned = super().clean()  # password, active, staff
            self.clean_otp(self.get_user())
        except forms.ValidationError:
            self.user_cache = None
            raise forms.ValidationError(self.error_messages["invalid_login_2fa"], code="invalid_login")
        return cleaned

    def _update_form(self, user: Any) -> None:
        """django-otp re-renders the password after a failed code, which would confirm it: never."""
