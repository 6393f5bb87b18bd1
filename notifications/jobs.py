"""Scheduled jobs of notifications (plain functions: Celery beat and Zappa events both call them)."""


def send_daily_digests() -> int:
    """Email each daily-digest user a summary of unread notifications. Returns emails queued."""
    raise NotImplementedError("built by the notifications issue")


def send_weekly_digests() -> int:
    """Email each weekly-digest user a summary of unread notifications. Returns emails queued."""
    raise NotImplementedError("built by the notifications issue")


def purge_old_notifications() -> int:
    """Delete read notifications older than the retention age. Returns how many."""
    raise NotImplementedError("built by the notifications issue")
