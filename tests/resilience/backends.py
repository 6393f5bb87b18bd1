"""Mail backends that stand where the provider connection is, for the fault suite."""

from __future__ import annotations

from django.core.mail.backends.locmem import EmailBackend


class WorkerKilled(BaseException):  # noqa: N818 — not an Exception: no handler of ours runs, as when a process dies
    """The worker process died here (OOM, Lambda timeout, SIGKILL)."""


class DyingBackend(EmailBackend):
    """The worker dies while talking to the provider, before the provider accepted the message,
    the first ``deaths`` times; then it delivers to Django's locmem outbox."""

    deaths = 0

    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        if DyingBackend.deaths > 0:
            DyingBackend.deaths -= 1
            raise WorkerKilled("killed mid-send")
        return super().send_messages(email_messages)
