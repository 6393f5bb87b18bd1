"""Reads of projects, with the permission checks every caller shares.

``project_get_for_user`` and ``require_role`` are the one place that decides who may see or do
what in a project: the API views, the assistant and the GDPR export all go through them.
A user who is not a member gets the same 404 as for a project that does not exist (or an id that
is not even a UUID), so project ids cannot be probed.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import User
from core import rawsql
from core.errors import InvalidInput, NotFound, PermissionDenied

from .models import Activity, File, FileStatus, Invitation, Membership, Project, Role, UploadTombstone

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
    "member_count",
)


@functools.cache
def _project_page_query(
    vendor: str,
    *,
    role: bool,
    archived: bool,
    q: bool,
    ordering: str,
    text_in_sql: bool = False,
    count_only: bool = False,
) -> rawsql.Query:
    """The page's statement for one filter shape and ordering, built once per process: the
    columns of ``PROJECT_ROW_FIELDS`` in that order, then the total matching rows from a
    ``COUNT(*) OVER ()`` window on the same rows. With ``text_in_sql`` the database writes the ids
    and datetimes as the API's text (``rawsql.uuid_text_sql``, ``rawsql.datetime_text_sql``).
    Names come from the models and are quoted; every value is a parameter."""
    c = rawsql.column
    where = [f"{c(Membership, 'user', 'm')} = %s"]
    if role:
        where.append(f"{c(Membership, 'role', 'm')} = %s")
    if archived:
        where.append(f"{c(Project, 'archived', 'p')} = %s")
    if q:
        like = connection.operators["icontains"]  # the ORM's icontains on this backend
        where.append(f"({c(Project, 'name', 'p')} {like} OR {c(Project, 'description', 'p')} {like})")
    joins = (
        f"FROM {rawsql.table(Membership)} m "
        f"INNER JOIN {rawsql.table(Project)} p ON {c(Project, 'id', 'p')} = {c(Membership, 'project', 'm')} "
        f"INNER JOIN {rawsql.table(User)} u ON {c(User, 'id', 'u')} = {c(Project, 'owner', 'p')} "
        f"WHERE {' AND '.join(where)}"
    )
    if count_only:
        return rawsql.Query(f"SELECT COUNT(*) {joins}", [None])  # noqa: S608 (names from _meta, values are parameters)
    order = ", ".join(
        f"{c(Project, name.lstrip('-'), 'p')}{' DESC' if name.startswith('-') else ' ASC'}"
        for name in PROJECT_ORDERINGS[ordering]
    )

    def as_read(column: str) -> str:
        return column

    uuid_sql = rawsql.uuid_text_sql if text_in_sql else as_read
    when_sql = rawsql.datetime_text_sql if text_in_sql else as_read
    columns = [
        c(Membership, "role", "m"),
        uuid_sql(c(Membership, "project", "m")),
        c(Project, "name", "p"),
        c(Project, "description", "p"),
        c(Project, "archived", "p"),
        uuid_sql(c(Project, "owner", "p")),
        c(User, "name", "u"),
        when_sql(c(Project, "created_at", "p")),
        when_sql(c(Project, "updated_at", "p")),
        f"(SELECT COUNT(*) FROM {rawsql.table(Membership)} mc "  # noqa: S608
        f"WHERE {c(Membership, 'project', 'mc')} = {c(Membership, 'project', 'm')})",
        "COUNT(*) OVER ()",
    ]
    # Names from _meta, quoted by the backend; every value is a parameter.
    sql = f"SELECT {', '.join(columns)} {joins} ORDER BY {order} LIMIT %s OFFSET %s"  # noqa: S608
    # No converters: role, names and description read as the ORM reads them, ``archived`` is left
    # as stored (0/1 on MySQL and SQLite) for the serializer, ids and datetimes become text.
    return rawsql.Query(sql, [None] * len(columns))


def project_page_for_user(
    *,
    user: Any,
    limit: int,
    offset: int,
    role: str | None = None,
    archived: bool | None = None,
    q: str | None = None,
    ordering: str | None = None,
) -> tuple[int, list[Sequence[Any]]]:
    """One page of the projects ``user`` is a member of (the owner has a membership too) and their
    total, as rows for ``serializers.project_rows``: tuples of the caller's role, the project's
    columns, the owner's id and name, and ``member_count``, in the order of
    ``PROJECT_ROW_FIELDS``. Ids and datetimes are already the API's text (canonical UUIDs; ISO 8601
    as DRF writes them); ``archived`` is as stored (a bool or 0/1).

    ``role`` and ``archived`` filter, ``q`` searches names and descriptions (the ORM's
    ``icontains``), ``ordering`` is one of name, created, updated (``-`` for descending; default
    ``-created``); an unknown ``role`` or ``ordering`` is ``InvalidInput``.

    The most requested read of the API, so it is one prepared statement (``core.rawsql``), not an
    ORM query compiled per request: the total comes from a ``COUNT(*) OVER ()`` window on the page's
    rows, and a second ``COUNT`` runs only when the offset is past the end and the page is empty.
    On MySQL/MariaDB in UTC the database writes the ids and datetimes as text, so no Python runs
    per value. ``tests/projects/test_project_page.py`` checks it against the ORM's answer.
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
    params: list[Any] = [rawsql.prep(Membership, "user", user.pk)]
    if role:
        params.append(role)
    if archived is not None:
        params.append(rawsql.prep(Project, "archived", archived))
    if q:
        pattern = f"%{connection.ops.prep_for_like_query(q)}%"
        params += [pattern, pattern]
    shape = {"role": bool(role), "archived": archived is not None, "q": bool(q)}
    in_sql = rawsql.text_in_sql()
    found = _project_page_query(connection.vendor, ordering=ordering, text_in_sql=in_sql, **shape).rows(
        [*params, limit, offset]
    )
    rows: list[Sequence[Any]]
    if in_sql:
        rows = [row[:-1] for row in found]
    else:
        uuid_text, datetime_text = rawsql.uuid_text, rawsql.datetime_text_function()
        rows = [
            (
                role_,
                uuid_text(project_id),
                name,
                description,
                is_archived,
                uuid_text(owner_id),
                owner_name,
                datetime_text(created_at),
                datetime_text(updated_at),
                member_count,
            )
            for (
                role_,
                project_id,
                name,
                description,
                is_archived,
                owner_id,
                owner_name,
                created_at,
                updated_at,
                member_count,
                _,
            ) in found
        ]
    if rows:
        return int(found[0][-1]), rows
    if not offset:
        return 0, rows
    count = _project_page_query(connection.vendor, ordering=ordering, count_only=True, **shape)
    return int(count.rows(params)[0][0]), rows


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


def owner_ref(owner_id: Any) -> str:
    """The keyed hash that names an owner on an ``UploadTombstone`` (no user id in that table)."""
    return salted_hmac("projects.upload-tombstone", str(owner_id), algorithm="sha256").hexdigest()


def storage_used_bytes(*, owner: Any) -> int:
    """Bytes counted against ``owner``'s storage quota: ready files, reserved pending uploads across
    every project they own, and deleted files whose upload forms may still store their objects
    (tombstones, until purged)."""
    total = File.objects.filter(project__owner=owner).aggregate(total=Sum("size"))["total"]
    held = UploadTombstone.objects.filter(owner_ref=owner_ref(owner.pk)).aggregate(total=Sum("size"))["total"]
    return int(total or 0) + int(held or 0)


def project_count_for_owner(*, owner: Any) -> int:
    return Project.objects.filter(owner=owner).count()
