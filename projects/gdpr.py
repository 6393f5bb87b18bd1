"""GDPR export and erasure of projects, and usage reports for billing (registered in apps.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounts.models import normalize_email

from .models import Activity, File, Invitation, Membership, Project
from .selectors import project_count_for_owner, storage_used_bytes

# Keys of Activity.data that hold a user id, and the one that holds an invited address.
_USER_ID_KEYS = ("user_id", "from_user_id", "to_user_id")


def _addresses(user: Any) -> list[str]:
    return [normalize_email(e) for e in (user.email, getattr(user, "pending_email", "")) if e]


def _activity_naming(user: Any) -> Any:
    """Activity anywhere whose data names the user (by id, or by address for an invitation)."""
    named = Q(data__email__in=_addresses(user))
    for key in _USER_ID_KEYS:
        named |= Q(**{f"data__{key}": str(user.pk)})
    return Activity.objects.filter(named)


def _invitation(inv: Invitation) -> dict[str, Any]:
    return {
        "id": str(inv.pk),
        "project_id": str(inv.project_id),
        "project_name": inv.project.name,
        "email": inv.email,
        "role": inv.role,
        "revoked": inv.revoked,
        "accepted_at": inv.accepted_at.isoformat() if inv.accepted_at else None,
        "expires_at": inv.expires_at.isoformat(),
        "created_at": inv.created_at.isoformat(),
    }


def export_user(user: Any) -> dict[str, Any]:
    """Projects the user owns or belongs to (with the metadata of each file), the files they
    uploaded anywhere, the invitations they sent and received, and the activity they did or that
    names them."""
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
    activity = Activity.objects.filter(actor=user) | _activity_naming(user)
    return {
        "projects": [
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
        ],
        "files_uploaded": [
            {
                "id": str(f.pk),
                "project_id": str(f.project_id),
                "name": f.name,
                "size": f.size,
                "created_at": f.created_at.isoformat(),
            }
            for f in File.objects.filter(uploaded_by=user).order_by("created_at")
        ],
        "invitations_sent": [
            _invitation(inv) for inv in Invitation.objects.filter(invited_by=user).select_related("project")
        ],
        "invitations_received": [
            _invitation(inv) for inv in Invitation.objects.filter(email__in=_addresses(user)).select_related("project")
        ],
        "activity": [
            {
                "project_id": str(a.project_id),
                "verb": a.verb,
                "by_me": a.actor_id == user.pk,
                "data": a.data,
                "created_at": a.created_at.isoformat(),
            }
            for a in activity.distinct().order_by("created_at")
        ],
    }


def erase_user(user: Any) -> None:
    """Delete the projects the user owns (stored objects go after commit), their memberships
    elsewhere and the invitations addressed to them; in other projects' activity, their id and
    address become null (the actor link is nulled by the foreign key). Files they uploaded to other
    people's projects stay: they are that project's content (docs/security.md "Erasure")."""
    for project in Project.objects.filter(owner=user):
        project.delete()
    Membership.objects.filter(user=user).delete()
    Invitation.objects.filter(email__in=_addresses(user)).delete()
    addresses, user_id = _addresses(user), str(user.pk)
    for activity in _activity_naming(user):
        data = dict(activity.data)
        for key in _USER_ID_KEYS:
            if data.get(key) == user_id:
                data[key] = None
        if data.get("email") in addresses:
            data["email"] = None
        activity.data = data
        activity.save(update_fields=["data"])


def usage_projects(user: Any) -> int:
    return project_count_for_owner(owner=user)


def usage_storage_bytes(user: Any) -> int:
    return storage_used_bytes(owner=user)
