"""Per-IP and per-target-email limits on the anonymous auth endpoints, on the shared cache.

Each attempt is one atomic ``core.throttling.hit`` per key, so the limit holds across every worker,
container and instance sharing the store (Redis, or the database where there is none). These are
security limits: when no store answers the attempt is refused. Emails are hashed in the keys.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings

from core.errors import RateLimited
from core.throttling import client_ip, hit, parse_rate

from .models import normalize_email

# action → (setting with the per-email rate, setting with the per-IP rate)
RATES = {
    "login": ("THROTTLE_LOGIN", "THROTTLE_LOGIN_IP"),
    "register": ("THROTTLE_REGISTER", "THROTTLE_REGISTER_IP"),
    "password_reset": ("THROTTLE_PASSWORD_RESET", "THROTTLE_PASSWORD_RESET_IP"),
    "verify_resend": ("THROTTLE_VERIFY_RESEND", "THROTTLE_VERIFY_RESEND_IP"),
}


def email_key(email: str) -> str:
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()[:24]


def _hit(key: str, rate: str | None) -> tuple[bool, int]:
    if not rate:
        return True, 0
    limit, window = parse_rate(rate)
    return hit(key, limit, window, security=True)


def check(request: Any, action: str, email: str | None) -> None:
    """Count this attempt against the client IP, then the target email; RateLimited (429) past either.

    A request refused by the IP limit does not count against the email (a flood from one address
    cannot lock out the owner of the mailbox by itself).
    """
    email_setting, ip_setting = RATES[action]
    allowed, retry_after = _hit(f"auth:{action}:ip:{client_ip(request)}", getattr(settings, ip_setting))
    if allowed and email:
        allowed, retry_after = _hit(f"auth:{action}:email:{email_key(email)}", getattr(settings, email_setting))
    if not allowed:
        raise RateLimited("Too many attempts. Please wait before trying again.", retry_after=retry_after)


def check_password_attempt(user: Any) -> None:
    """Limit current-password checks by a signed-in user (password change, account deletion)."""
    allowed, retry_after = _hit(f"auth:password_check:user:{user.pk}", settings.THROTTLE_PASSWORD_CHECK)
    if not allowed:
        raise RateLimited("Too many attempts. Please wait before trying again.", retry_after=retry_after)
