"""Writes of projects: every change to projects, members, invitations and files goes through here.

Callers check permissions first (``selectors.project_get_for_user`` + ``require_role``); services
enforce plan limits (``billing.selectors.entitlements_for_user`` of the project's owner) and keep
quotas exact under concurrency by locking the owner's user row while they count.
Storage objects of deleted files are removed after commit (``File`` post_delete → ``tasks``).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.models import normalize_email
from accounts.throttles import email_key
from billing.selectors import entitlements_for_user
from core.errors import InvalidInput, NotFound, PlanLimitExceeded
from core.throttling import hit, parse_rate
from notifications.services import notify, send_transactional_email

from . import storage
from .errors import (
    AlreadyMember,
    DirectUploadUnavailable,
    EmailNotVerified,
    InvitationEmailMismatch,
    InvitationExpired,
    InvitationInvalid,
    InvitationLimitReached,
    InvitationNotPending,
    OwnerRoleFixed,
    ProjectArchived,
    UploadMissing,
    UploadSizeMismatch,
    UploadTooLarge,
)
from .models import Activity, File, FileStatus, Invitation, Membership, Project, Role, UploadTombstone, Verb
from .selectors import invitation_pending_q, owner_ref, parse_id, project_count_for_owner, storage_used_bytes

logger = logging.getLogger(__name__)

INVITABLE_ROLES = (Role.EDITOR, Role.VIEWER)
# After its form's expiry an upload already under way may still finish: the tombstone waits this long.
UPLOAD_GRACE_SECONDS = 300


# -- helpers -------------------------------------------------------------------------------------
def _activity(project: Project, actor: Any, verb: str, **data: Any) -> Activity:
    return Activity.objects.create(project=project, actor=actor, verb=verb, data=data)


def _project_link(project: Project) -> str:
    return f"{settings.FRONTEND_URL}/projects/{project.pk}"


def _notify_members(project: Project, *, exclude: set[Any], title: str, body: str = "", **data: Any) -> None:
    """In-app notification to every member except ``exclude`` (user ids)."""
    for membership in Membership.objects.filter(project=project).exclude(user_id__in=exclude).select_related("user"):
        notify(
            user=membership.user,
            category="project",
            title=title,
            body=body,
            link=_project_link(project),
            data={"project_id": str(project.pk), **data},
        )


def _lock_users(*user_ids: Any) -> None:
    """Lock users' rows (always in the same order, so two transactions cannot deadlock). Quota
    counts made while holding the lock cannot be overtaken by a concurrent reservation."""
    User = get_user_model()
    list(User.objects.select_for_update().filter(pk__in=sorted({str(u) for u in user_ids})).order_by("pk").values("pk"))


def _actor_name(user: Any) -> str:
    return (getattr(user, "name", "") or getattr(user, "email", "")) if user else "Someone"


# -- projects ------------------------------------------------------------------------------------
@transaction.atomic
def project_create(*, owner: Any, name: str, description: str = "") -> Project:
    """Create a project owned by ``owner`` (402 ``projects`` past the plan's project count)."""
    entitlements = entitlements_for_user(user=owner)
    _lock_users(owner.pk)
    if project_count_for_owner(owner=owner) >= entitlements.max_projects:
        raise PlanLimitExceeded("projects", max=entitlements.max_projects)
    project = Project(owner=owner, name=name.strip(), description=description)
    project.full_clean()
    project.save()
    Membership.objects.create(project=project, user=owner, role=Role.OWNER)
    _activity(project, owner, Verb.PROJECT_CREATED, name=project.name)
    return project


@transaction.atomic
def project_update(
    *,
    project: Project,
    actor: Any,
    name: str | None = None,
    description: str | None = None,
    archived: bool | None = None,
) -> Project:
    changed: list[str] = []
    old_name = project.name
    if name is not None and name.strip() != project.name:
        project.name = name.strip()
        changed.append("name")
    if description is not None and description != project.description:
        project.description = description
        changed.append("description")
    if archived is not None and archived != project.archived:
        project.archived = archived
        changed.append("archived")
    if not changed:
        return project
    project.full_clean()
    project.save(update_fields=[*changed, "updated_at"])
    if "name" in changed:
        _activity(project, actor, Verb.PROJECT_RENAMED, old_name=old_name, name=project.name)
    if "description" in changed:
        _activity(project, actor, Verb.PROJECT_UPDATED, fields=["description"])
    if "archived" in changed:
        _activity(project, actor, Verb.PROJECT_ARCHIVED if project.archived else Verb.PROJECT_UNARCHIVED)
    return project


@transaction.atomic
def project_delete(*, project: Project, actor: Any) -> None:
    """Delete the project with its members, invitations, files and activity; the stored objects
    are deleted after commit."""
    project.delete()


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


@transaction.atomic
def project_transfer(*, project: Project, actor: Any, user_id: Any) -> Project:
    """Make the member ``user_id`` the owner; the previous owner stays on as an editor. The new
    owner's plan must allow one more project and the project's stored bytes.

    A ``user_id`` that is no member of the project is invalid input (400 on ``user_id``), not a 404:
    the project the request names exists, and the caller owns it."""
    member_user_id = _uuid_or_none(user_id)
    target = (
        Membership.objects.select_related("user").filter(project=project, user_id=member_user_id).first()
        if member_user_id is not None
        else None
    )
    if target is None:
        raise InvalidInput(
            "The new owner must be a member of the project.",
            fields={"user_id": ["Not a member of this project."]},
            code="validation_error",
        )
    if target.role == Role.OWNER:
        raise InvalidInput(
            "This member already owns the project.", fields={"user_id": ["Already the owner."]}, code="validation_error"
        )
    new_owner = target.user
    entitlements = entitlements_for_user(user=new_owner)
    _lock_users(project.owner_id, new_owner.pk)
    if project_count_for_owner(owner=new_owner) >= entitlements.max_projects:
        raise PlanLimitExceeded("projects", max=entitlements.max_projects)
    project_bytes = sum(File.objects.filter(project=project).values_list("size", flat=True))
    if storage_used_bytes(owner=new_owner) + project_bytes > entitlements.max_storage_bytes:
        raise PlanLimitExceeded("storage", max=entitlements.max_storage_bytes)
    old_owner_id = project.owner_id
    previous = Membership.objects.get(project=project, role=Role.OWNER)
    previous.role = Role.EDITOR
    previous.save(update_fields=["role", "updated_at"])
    target.role = Role.OWNER
    target.save(update_fields=["role", "updated_at"])
    project.owner = new_owner
    project.save(update_fields=["owner", "updated_at"])
    _activity(project, actor, Verb.OWNERSHIP_TRANSFERRED, from_user_id=str(old_owner_id), to_user_id=str(new_owner.pk))
    notify(
        user=new_owner,
        category="project",
        title=f"You now own {project.name}",
        body=f"{_actor_name(actor)} transferred the project to you.",
        link=_project_link(project),
        data={"project_id": str(project.pk)},
    )
    return project


# -- members and invitations ---------------------------------------------------------------------
def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _count_invitation(*, actor: Any, email: str) -> None:
    """Count one invitation email against the inviter and the recipient address (shared cache,
    atomic: ``core.throttling.hit``); ``InvitationLimitReached`` (429) past either. Every sent
    invitation counts, revoked or not, so invite → revoke loops cannot mail without end, and the
    address's limit holds whoever invites it (owners of many projects, many accounts)."""
    for key, rate in (
        (f"projects:invite:from:{actor.pk}", settings.PROJECTS_INVITE_RATE_PER_INVITER),
        (f"projects:invite:to:{email_key(email)}", settings.PROJECTS_INVITE_RATE_PER_RECIPIENT),
    ):
        allowed, retry_after = hit(key, *parse_rate(rate))
        if not allowed:
            raise InvitationLimitReached(retry_after=retry_after)


@transaction.atomic
def member_invite(*, project: Project, actor: Any, email: str, role: str) -> Invitation:
    """Invite ``email`` as editor or viewer: an email with a single-use token always, and an in-app
    notification when the address has an account. A pending invitation to the same address is
    replaced. Pending invitations count towards the plan's members per project; every invitation
    sent counts towards the inviter's and the address's limits (``_count_invitation``)."""
    if role not in INVITABLE_ROLES:
        raise InvalidInput("Invalid role.", fields={"role": ["Must be editor or viewer."]}, code="validation_error")
    email = normalize_email(email)
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if Membership.objects.filter(project=locked, user__email=email).exists():
        raise AlreadyMember()
    Invitation.objects.filter(invitation_pending_q(), project=locked, email=email).update(revoked=True)
    entitlements = entitlements_for_user(user=locked.owner)
    members = Membership.objects.filter(project=locked).count()
    pending = Invitation.objects.filter(invitation_pending_q(), project=locked).count()
    if members + pending >= entitlements.max_members_per_project:
        raise PlanLimitExceeded("members_per_project", max=entitlements.max_members_per_project)
    _count_invitation(actor=actor, email=email)
    token = secrets.token_urlsafe(32)
    ttl = timedelta(hours=int(getattr(settings, "PROJECTS_INVITATION_TTL_HOURS", 168)))
    invitation = Invitation(
        project=locked,
        email=email,
        role=role,
        token_hash=_hash_token(token),
        invited_by=actor,
        expires_at=timezone.now() + ttl,
    )
    invitation.full_clean()
    invitation.save()
    _activity(locked, actor, Verb.MEMBER_INVITED, email=email, role=role, invitation_id=str(invitation.pk))
    accept_url = f"{settings.FRONTEND_URL}/invitations/accept?token={token}"
    existing = get_user_model().objects.filter(email=email, is_active=True).first()
    if existing is not None:
        # No token in the notice (staff can read notices): the invitee accepts it by its id.
        notify(
            user=existing,
            category="project",
            title=f"{_actor_name(actor)} invited you to {locked.name}",
            body=f"You were invited as {role}.",
            link=f"{settings.FRONTEND_URL}/invitations/{invitation.pk}",
            data={"project_id": str(locked.pk), "invitation_id": str(invitation.pk)},
        )
    send_transactional_email(
        to=email,
        template="projects_invitation",
        context={
            "project_name": locked.name,
            "inviter_name": _actor_name(actor),
            "role": role,
            "expires_at": invitation.expires_at,
        },
        secrets={"accept_url": accept_url},  # stored redacted in the outbox
    )
    invitation.token = token  # type: ignore[attr-defined]  # never stored; for the caller only
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: Any) -> None:
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.revoked or locked.accepted_at or locked.expires_at <= timezone.now():
        raise InvitationNotPending()
    locked.revoked = True
    locked.save(update_fields=["revoked"])
    _activity(locked.project, actor, Verb.INVITATION_REVOKED, email=locked.email, invitation_id=str(locked.pk))


def invitation_accept(*, user: Any, token: str = "", invitation_id: Any = None) -> Membership:
    """Join the project of the invitation ``token`` (the mailed link) or ``invitation_id`` (the in-app
    notice, which carries no token): the user's verified email must be the invited one; single use;
    expires. Errors: ``invitation_invalid``, ``invitation_expired``, ``email_not_verified``,
    ``invitation_email_mismatch``, ``already_member``, 402 members."""
    with transaction.atomic():
        pending = Invitation.objects.select_for_update()
        if token:
            invitation = pending.filter(token_hash=_hash_token(str(token))).first()
        elif invitation_id:  # by id only for the invited address: no other user learns it exists
            invitation = pending.filter(pk=invitation_id, email=normalize_email(user.email)).first()
        else:
            invitation = None
        if invitation is None or invitation.revoked or invitation.accepted_at is not None:
            raise InvitationInvalid()
        if invitation.expires_at <= timezone.now():
            raise InvitationExpired()
        if not getattr(user, "email_verified", False):
            raise EmailNotVerified()
        if normalize_email(user.email) != invitation.email:
            raise InvitationEmailMismatch()
        project = Project.objects.select_for_update().select_related("owner").get(pk=invitation.project_id)
        if Membership.objects.filter(project=project, user=user).exists():
            raise AlreadyMember()
        entitlements = entitlements_for_user(user=project.owner)
        if Membership.objects.filter(project=project).count() >= entitlements.max_members_per_project:
            raise PlanLimitExceeded("members_per_project", max=entitlements.max_members_per_project)
        membership = Membership.objects.create(project=project, user=user, role=invitation.role)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        _activity(project, user, Verb.MEMBER_JOINED, user_id=str(user.pk), role=invitation.role)
        _notify_members(
            project,
            exclude={user.pk},
            title=f"{_actor_name(user)} joined {project.name}",
            user_id=str(user.pk),
        )
        return membership


@transaction.atomic
def member_change_role(*, membership: Membership, actor: Any, role: str) -> Membership:
    if role not in INVITABLE_ROLES:
        raise InvalidInput(
            "Invalid role.",
            fields={"role": ["Must be editor or viewer (use transfer/ to change the owner)."]},
            code="validation_error",
        )
    if membership.role == Role.OWNER:
        raise OwnerRoleFixed()
    if membership.role == role:
        return membership
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    project = membership.project
    _activity(project, actor, Verb.ROLE_CHANGED, user_id=str(membership.user_id), old_role=old, role=role)
    notify(
        user=membership.user,
        category="project",
        title=f"Your role in {project.name} is now {role}",
        link=_project_link(project),
        data={"project_id": str(project.pk)},
    )
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, actor: Any) -> None:
    """Remove a member (owner) or leave (the member themself). The owner cannot be removed."""
    if membership.role == Role.OWNER:
        raise OwnerRoleFixed()
    project = membership.project
    user = membership.user
    membership.delete()
    leaving = actor is not None and actor.pk == user.pk
    _activity(project, actor, Verb.MEMBER_LEFT if leaving else Verb.MEMBER_REMOVED, user_id=str(user.pk))
    if not leaving:
        notify(
            user=user,
            category="project",
            title=f"You were removed from {project.name}",
            data={"project_id": str(project.pk)},
        )
    _notify_members(
        project,
        exclude={getattr(actor, "pk", None)},
        title=f"{_actor_name(user)} {'left' if leaving else 'was removed from'} {project.name}",
        user_id=str(user.pk),
    )


# -- files ---------------------------------------------------------------------------------------
def _validate_size(size: Any) -> int:
    try:
        value = int(size)
    except (TypeError, ValueError):
        value = -1
    if value < 1:
        raise InvalidInput(
            "Invalid size.", fields={"size": ["Must be a whole number of bytes, at least 1."]}, code="validation_error"
        )
    return value


@transaction.atomic
def _reserve(
    *, project: Project, actor: Any, name: str, size: int, content_type: str, form_expires_at: datetime | None = None
) -> File:
    """Create the pending file, counting its bytes against the owner's storage under a row lock so
    concurrent uploads cannot overshoot the quota."""
    # Lock first: every read below then sees the reservations committed before ours.
    _lock_users(project.owner_id)
    locked = Project.objects.select_related("owner").get(pk=project.pk)
    if locked.archived:
        raise ProjectArchived()
    entitlements = entitlements_for_user(user=locked.owner)
    if size > entitlements.max_file_size_bytes:
        raise PlanLimitExceeded("file_size", max=entitlements.max_file_size_bytes)
    if storage_used_bytes(owner=locked.owner) + size > entitlements.max_storage_bytes:
        raise PlanLimitExceeded("storage", max=entitlements.max_storage_bytes)
    file = File(
        project=locked,
        name=name,
        size=size,
        content_type=content_type,
        uploaded_by=actor,
        upload_form_expires_at=form_expires_at,
    )
    file.key = storage.object_key(project_id=locked.pk, file_id=file.pk, name=name)
    file.full_clean()
    file.save()
    return file


@dataclass(frozen=True)
class DirectUpload:
    file: File
    post: storage.PresignedPost
    expires_at: datetime


def file_upload_start(*, project: Project, actor: Any, name: Any, size: Any, content_type: Any = "") -> DirectUpload:
    """Reserve a pending file and return a presigned POST that S3 accepts for exactly ``size``
    bytes under the server-chosen key. Complete it with ``file_upload_complete``."""
    if not storage.is_s3():
        raise DirectUploadUnavailable()
    clean_name = storage.clean_filename(name)
    clean_type = storage.clean_content_type(content_type)
    size = _validate_size(size)
    upload_tombstones_purge(owner_id=project.owner_id)  # expired forms give their bytes back first
    expires_in = int(getattr(settings, "PROJECTS_UPLOAD_URL_EXPIRY_SECONDS", 900))
    file = _reserve(
        project=project,
        actor=actor,
        name=clean_name,
        size=size,
        content_type=clean_type,
        form_expires_at=timezone.now() + timedelta(seconds=expires_in),
    )
    try:
        post = storage.presigned_post(key=file.key, size=size, content_type=clean_type, expires_in=expires_in)
    except Exception:
        file.upload_form_expires_at = None  # no form was handed out: nothing to hold
        file.delete()
        raise
    assert file.upload_form_expires_at is not None
    return DirectUpload(file=file, post=post, expires_at=file.upload_form_expires_at)


def _mark_ready(file: File, actor: Any) -> File:
    file.status = FileStatus.READY
    file.save(update_fields=["status", "updated_at"])
    project = file.project
    _activity(project, actor, Verb.FILE_UPLOADED, file_id=str(file.pk), name=file.name, size=file.size)
    _notify_members(
        project,
        exclude={getattr(actor, "pk", None)},
        title=f"{_actor_name(actor)} uploaded {file.name} to {project.name}",
        file_id=str(file.pk),
    )
    return file


def file_upload_complete(*, project: Project, actor: Any, file_id: Any) -> File:
    """Check the stored object exists with the declared size, re-check the plan's limits, and mark
    the file ready. Idempotent for a ready file. A wrong-sized object (or one over the limits) is
    discarded with its file."""
    discard: Exception | None = None
    with transaction.atomic():
        file = File.objects.select_for_update().filter(project=project, pk=parse_id(file_id)).first()
        if file is None:
            raise NotFound("File not found.")
        if file.status == FileStatus.READY:
            return file
        size = storage.stored_size(file.key)
        if size is None:
            raise UploadMissing()
        owner = Project.objects.select_related("owner").get(pk=project.pk).owner
        entitlements = entitlements_for_user(user=owner)
        if size != file.size:
            discard = UploadSizeMismatch(declared=file.size, stored=size)
        elif size > entitlements.max_file_size_bytes:
            discard = PlanLimitExceeded("file_size", max=entitlements.max_file_size_bytes)
        else:
            _lock_users(owner.pk)
            if storage_used_bytes(owner=owner) > entitlements.max_storage_bytes:  # plan lowered since start
                discard = PlanLimitExceeded("storage", max=entitlements.max_storage_bytes)
        if discard is not None:
            file.delete()  # the object goes after commit
        else:
            file.project = project
            _mark_ready(file, actor)
    if discard is not None:
        raise discard
    return file


def file_upload_multipart(*, project: Project, actor: Any, upload: Any) -> File:
    """Store a small file sent through the API (``PROJECTS_MULTIPART_MAX_BYTES``, below Lambda's
    6 MB request limit once API Gateway base64-encodes it)."""
    cap = int(getattr(settings, "PROJECTS_MULTIPART_MAX_BYTES", 4 * 1024 * 1024))
    if upload.size > cap:
        raise UploadTooLarge(max=cap)
    name = storage.clean_filename(upload.name)
    content_type = storage.clean_content_type(getattr(upload, "content_type", ""))
    size = _validate_size(upload.size)
    upload_tombstones_purge(owner_id=project.owner_id)
    file = _reserve(project=project, actor=actor, name=name, size=size, content_type=content_type)
    try:
        saved = storage.save(key=file.key, content=upload)
    except Exception:
        file.delete()
        raise
    with transaction.atomic():
        if saved != file.key:  # never expected: keys are unique; keep the row truthful anyway
            File.objects.filter(pk=file.pk).update(key=saved)
            file.key = saved
        file.project = project
        return _mark_ready(file, actor)


@transaction.atomic
def file_delete(*, project: Project, actor: Any, file: File) -> None:
    """Delete the file; its stored object is removed after commit."""
    was_ready = file.status == FileStatus.READY
    file.delete()
    if was_ready:
        _activity(project, actor, Verb.FILE_DELETED, file_id=str(file.pk), name=file.name, size=file.size)


def cleanup_stale_pending(*, older_than: timedelta) -> int:
    """Delete pending files created before ``now - older_than`` (objects removed after commit)."""
    cutoff = timezone.now() - older_than
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(
                File.objects.select_for_update(skip_locked=True)
                .filter(status=FileStatus.PENDING, created_at__lt=cutoff)
                .order_by("created_at")[:500]
            )
            if not batch:
                return deleted
            for file in batch:
                file.delete()
            deleted += len(batch)


# -- tombstones of upload forms that outlive their files ------------------------------------------
def upload_tombstone_create(*, file: File) -> UploadTombstone | None:
    """Called as any file row is deleted (its own delete, a discard at completion, its project's or
    owner's deletion). While the file's direct-upload form may still be used (its expiry +
    ``UPLOAD_GRACE_SECONDS`` for an upload under way), keep its bytes counted against the owner and its
    object due for deletion: S3 would otherwise store the object again with no row (start → delete →
    POST loops). Files uploaded through the API had no form and leave no tombstone."""
    if file.upload_form_expires_at is None:
        return None
    expires_at = file.upload_form_expires_at + timedelta(seconds=UPLOAD_GRACE_SECONDS)
    if expires_at <= timezone.now():
        return None
    owner_id = Project.objects.filter(pk=file.project_id).values_list("owner_id", flat=True).first()
    return UploadTombstone.objects.create(
        owner_ref=owner_ref(owner_id) if owner_id else "", key=file.key, size=file.size, expires_at=expires_at
    )


def upload_tombstones_purge(*, owner_id: Any = None) -> int:
    """Delete the tombstones whose forms can no longer be used (all, or one owner's) and, after
    commit, the objects those forms may have stored. Returns how many."""
    from .tasks import storage_delete_task

    with transaction.atomic():
        expired = UploadTombstone.objects.select_for_update(skip_locked=True).filter(expires_at__lte=timezone.now())
        if owner_id is not None:
            expired = expired.filter(owner_ref=owner_ref(owner_id))
        rows = list(expired.order_by("expires_at").values_list("pk", "key")[:1000])
        if not rows:
            return 0
        UploadTombstone.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        keys = [key for _, key in rows]
        transaction.on_commit(lambda: storage_delete_task.delay(keys), robust=True)
    return len(rows)
