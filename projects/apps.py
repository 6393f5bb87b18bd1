"""App configuration for projects: GDPR exporter/eraser, usage providers, storage cleanup signal."""

from typing import Any

from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from core.registry import register_eraser, register_exporter, register_usage

        from . import gdpr
        from .models import File

        register_exporter("projects", gdpr.export_user)
        register_eraser("projects", gdpr.erase_user)
        register_usage("projects", gdpr.usage_projects)
        register_usage("storage_bytes", gdpr.usage_storage_bytes)
        post_delete.connect(_delete_stored_object, sender=File, dispatch_uid="projects.file.delete_object")


def _delete_stored_object(sender: Any, instance: Any, **kwargs: Any) -> None:
    """However a file row goes (its own delete, its project's, its owner's), its object is
    deleted once the transaction commits — never before, so a rollback keeps both — and, while its
    upload form may still be used, a tombstone keeps its bytes counted (``upload_tombstone_create``)."""
    from django.db import transaction

    from .services import upload_tombstone_create
    from .tasks import storage_delete_task

    upload_tombstone_create(file=instance)

    key = instance.key
    transaction.on_commit(lambda: storage_delete_task.delay([key]), robust=True)
