"""Reads of projects, with the permission checks every caller shares.

``project_get_for_user`` and ``require_role`` are the one place that decides who may see or do
what in a project: the API views, the assistant and the GDPR export all go through them.
A user who is not a member gets the same 404 as for a project that does not exist (or an id that
is not even a UUID), so project ids cannot be probed.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, Window
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.errors import InvalidInput, NotFound, PermissionDenied

from .models import Activity, File, FileStatus, Invitation, Membership, Project, Role

PROJECT_ORDERINGS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}
FILE_ORDERINGS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "size": ("size", "id"),
    "-size": ("-size", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}


def parse_id(value: Any) -> uuid.UUID:
    """A UUID from a path or body value; anything else is a 404 (never a 500 or a 400)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise NotFound() from None


def project_get_for_user(*, project_id: Any, user: Any) -> Project:
    """The project ``project_id`` if ``user`` is a member of it, else ``NotFound``.

    The returned project carries the caller's membership as ``project.membership`` (pass it to
    ``require_role``). One query.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotFound("Project not found.")
    pid = parse_id(project_id)
    membership = (
        Membership.objects.select_related("project", "project__owner").filter(project_id=pid, user=user).first()
    )
    if membership is None:
        raise NotFound("Project not found.")
    project = membership.project
    project.membership = membership  # type: ignore[attr-defined]
    return project


def require_role(membership: Membership, *roles: str) -> Membership:
    """Raise ``PermissionDenied`` (403: the caller is a member, so the project is no secret) unless
    the membership has one of ``roles``."""
    if membership.role not in roles:
        raise PermissionDenied(f"This action needs the {' or '.join(roles)} role.")
    return membership


PROJECT_ROW_FIELDS = (
    "role",
    "project_id",
    "project__name",
    "project__description",
    "project__archived",
    "project__owner_id",
    "project__owner__name",
    "project__created_at",
    "project__updated_at",
)


def project_list_for_user(
    *,
    user: Any,
    role: str | None = None,
    archived: bool | None = None,
    q: str | None = None,
    ordering: str | None = None,
) -> QuerySet[Membership]:
    """Projects ``user`` is a member of (the owner has a membership too), as plain rows for
    ``serializers.project_rows``: the caller's role, the project's columns, the owner's id and
    name, and ``member_count``.

    The query starts from the caller's memberships, so the role comes with the row (no subquery)
    and the filter is the ``(user, role)`` index; only ``member_count`` is a correlated count on
    the ``(project, ...)`` index. Rows are ``.values()`` dicts: no model instances are built.

    ``ordering`` is one of name, created, updated (``-`` for descending; default ``-created``);
    anything else is ``InvalidInput``, as is an unknown ``role``.
    """
    if role is not None and role not in Role.values:
        raise InvalidInput(
            "Unknown role.", fields={"role": [f"Must be one of {', '.join(Role.values)}."]}, code="validation_error"
        )
    ordering = ordering or "-created"
    if ordering not in PROJECT_ORDERINGS:
        raise InvalidInput(
            "Unknown ordering.",
            fields={"ordering": [f"Must be one of {', '.join(PROJECT_ORDERINGS)}."]},
            code="validation_error",
        )
    qs = Membership.objects.filter(user=user)
    if role:
        qs = qs.filter(role=role)
    if archived is not None:
        qs = qs.filter(project__archived=archived)
    if q:
        qs = qs.filter(Q(project__name__icontains=q) | Q(project__description__icontains=q))
    member_count = (
        Membership.objects.filter(project=OuterRef("project_id"))
        .order_by()
        .values("project")
        .annotate(c=Count("id"))
        .values("c")
    )
    order = [f"-project__{f[1:]}" if f.startswith("-") else f"project__{f}" for f in PROJECT_ORDERINGS[ordering]]
    return (
        qs.values(*PROJECT_ROW_FIELDS)
        .annotate(member_count=Coalesce(Subquery(member_count, output_field=IntegerField()), Value(0)))
        .order_by(*order)
    )


def project_page_for_user(*, user: Any, limit: int, offset: int, **filters: Any) -> tuple[int, list[dict[str, Any]]]:
    """One page of ``project_list_for_user`` and the total count, in one query: the total is a
    ``COUNT(*) OVER ()`` window on the same rows (a second ``COUNT`` query only when the offset is
    past the end and the page comes back empty)."""
    qs = project_list_for_user(user=user, **filters)
    rows = cast(list[dict[str, Any]], list(qs.annotate(total=Window(Count("*")))[offset : offset + limit]))
    if rows:
        return int(rows[0]["total"]), rows
    return (qs.count() if offset else 0), rows


def member_list(*, project: Project) -> QuerySet[Membership]:
    return Membership.objects.filter(project=project).select_related("user").order_by("created_at", "id")


def member_get(*, project: Project, member_id: Any) -> Membership:
    membership = Membership.objects.select_related("user").filter(project=project, pk=parse_id(member_id)).first()
    if membership is None:
        raise NotFound("Member not found.")
    return membership


def invitation_pending_q() -> Q:
    return Q(accepted_at__isnull=True, revoked=False, expires_at__gt=timezone.now())


def invitation_list_pending(*, project: Project) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(invitation_pending_q(), project=project)
        .select_related("invited_by")
        .order_by("-created_at", "-id")
    )


def invitation_get(*, project: Project, invitation_id: Any) -> Invitation:
    invitation = Invitation.objects.filter(project=project, pk=parse_id(invitation_id)).first()
    if invitation is None:
        raise NotFound("Invitation not found.")
    return invitation


def file_list(*, project: Project, q: str | None = None, ordering: str | None = None) -> QuerySet[File]:
    """Ready files of the project; ``q`` searches names; ``ordering`` name, size or created (``-`` desc)."""
    ordering = ordering or "-created"
    if ordering not in FILE_ORDERINGS:
        raise InvalidInput(
            "Unknown ordering.",
            fields={"ordering": [f"Must be one of {', '.join(FILE_ORDERINGS)}."]},
            code="validation_error",
        )
    qs = File.objects.filter(project=project, status=FileStatus.READY).select_related("uploaded_by")
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.order_by(*FILE_ORDERINGS[ordering])


def file_get(*, project: Project, file_id: Any) -> File:
    file = File.objects.select_related("uploaded_by").filter(project=project, pk=parse_id(file_id)).first()
    if file is None:
        raise NotFound("File not found.")
    return file


def activity_list(*, project: Project) -> QuerySet[Activity]:
    return Activity.objects.filter(project=project).select_related("actor").order_by("-created_at", "-id")


def storage_used_bytes(*, owner: Any) -> int:
    """Bytes counted against ``owner``'s storage quota: ready files plus reserved pending uploads
    across every project they own."""
    total = File.objects.filter(project__owner=owner).aggregate(total=Sum("size"))["total"]
    return int(total or 0)


def project_count_for_owner(*, owner: Any) -> int:
    return Project.objects.filter(owner=owner).count()
