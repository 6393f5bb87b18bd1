"""Scheduled jobs of projects (plain functions: Celery beat and Zappa events both call them)."""

from datetime import timedelta

from django.conf import settings


def cleanup_stale_uploads() -> int:
    """Delete pending direct uploads never completed (and their stored objects), and the objects
    that expired upload forms of deleted files may have stored (tombstones). Returns the count of
    stale pending files.

    "Stale" means created more than ``PROJECTS_STALE_UPLOAD_AGE_SECONDS`` ago (default 6 hours,
    well past the 15-minute life of an upload form).
    """
    from .services import cleanup_stale_pending, upload_tombstones_purge

    age = settings.PROJECTS_STALE_UPLOAD_AGE_SECONDS
    while upload_tombstones_purge():
        pass
    return cleanup_stale_pending(older_than=timedelta(seconds=age))
