"""App configuration for notifications."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from anymail.signals import tracking

        from core.registry import register_eraser, register_exporter

        from . import checks  # noqa: F401  (registers system checks)
        from .gdpr import erase_user, export_user
        from .receivers import handle_tracking

        tracking.connect(handle_tracking, dispatch_uid="notifications.handle_tracking")
        register_exporter("notifications", export_user)
        register_eraser("notifications", erase_user)
