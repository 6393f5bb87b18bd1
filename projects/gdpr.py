"""GDPR export and erasure of projects, and usage reports for billing (registered in apps.py)."""

from __future__ import annotations

from typing import Any

from .models import File, Invitation, Membership, Project
from .selectors import project_count_for_owner, storage_used_bytes


def export_projects(user: Any) -> list[dict[str, Any]]:
    """Projects the user owns or belongs to, with their role and the metadata of each file."""
    memberships = list(
        Membership.objects.filter(user=user).select_related("project", "project__owner").order_by("created_at")
    )
    files: dict[Any, list[dict[str, Any]]] = {}
    for file in File.objects.filter(project_id__in=[m.project_id for m in memberships]).order_by("created_at"):
        files.setdefault(file.project_id, []).append(
            {
                "id": str(file.pk),
                "name": file.name,
                "size": file.size,
                "content_type": file.content_type,
                "status": file.status,
                "uploaded_by_me": file.uploaded_by_id == user.pk,
                "created_at": file.created_at.isoformat(),
            }
        )
    return [
        {
            "id": str(m.project.pk),
            "name": m.project.name,
            "description": m.project.description,
            "role": m.role,
            "archived": m.project.archived,
            "owner_email": m.project.owner.email,
            "joined_at": m.created_at.isoformat(),
            "created_at": m.project.created_at.isoformat(),
            "files": files.get(m.project_id, []),
        }
        for m in memberships
    ]


def erase_projects(user: Any) -> None:
    """Delete the projects the user owns (stored objects go after commit), their memberships
    elsewhere and invitations addressed to them. Activity they left elsewhere keeps no actor."""
    for project in Project.objects.filter(owner=user):
        project.delete()
    Membership.objects.filter(user=user).delete()
    Invitation.objects.filter(email=user.email).delete()


def usage_projects(user: Any) -> int:
    return project_count_for_owner(owner=user)


def usage_storage_bytes(user: Any) -> int:
    return storage_used_bytes(owner=user)
