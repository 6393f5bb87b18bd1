"""A mail backend that fails a set number of times, then delivers to Django's locmem outbox.

It stands at the boundary (the SMTP/SES connection), like a provider outage would."""

from __future__ import annotations

from django.core.mail.backends.locmem import EmailBackend


class FlakyBackend(EmailBackend):
    failures_left = 0

    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        if FlakyBackend.failures_left > 0:
            FlakyBackend.failures_left -= 1
            raise ConnectionError("provider unavailable")
        return super().send_messages(email_messages)
