"""Projects, memberships (roles), invitations, files and the activity log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel, UUIDModel


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


class Project(UUIDModel, TimeStampedModel):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    # Mirrors the one membership with role=owner (services keep both in step).
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_projects")
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "created_at"], name="proj_owner_created_idx"),
            models.Index(fields=["name"], name="proj_name_idx"),
            models.Index(fields=["updated_at"], name="proj_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(UUIDModel, TimeStampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    # True for the owner's membership, NULL otherwise: a unique (project, is_owner) pair then allows
    # exactly one owner per project on every database (MySQL has no partial unique indexes).
    is_owner = models.BooleanField(null=True, default=None, editable=False)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="proj_member_unique"),
            models.UniqueConstraint(fields=["project", "is_owner"], name="proj_one_owner"),
        ]
        indexes = [
            models.Index(fields=["user", "role"], name="proj_member_user_role_idx"),
            models.Index(fields=["project", "created_at"], name="proj_member_project_idx"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.is_owner = True if self.role == Role.OWNER else None
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "role" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_owner"}
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.project_id}"


class Invitation(UUIDModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=10, choices=Role.choices)
    # sha256 hex of the token mailed to the invitee; the token itself is never stored.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["project", "accepted_at", "revoked", "expires_at"], name="proj_inv_pending_idx"),
            models.Index(fields=["email"], name="proj_inv_email_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.project_id}"


class FileStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    READY = "ready", "Ready"


class File(UUIDModel, TimeStampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    # Server-chosen storage key: projects/<project id>/<file id>/<safe name>.
    key = models.CharField(max_length=255, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=FileStatus.choices, default=FileStatus.PENDING)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    # When the presigned POST form of a direct upload expires (null: uploaded through the API). Until
    # then the form can store the object again, even after the row is gone (``UploadTombstone``).
    upload_form_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["project", "status", "created_at"], name="proj_file_created_idx"),
            models.Index(fields=["project", "status", "name"], name="proj_file_name_idx"),
            models.Index(fields=["project", "status", "size"], name="proj_file_size_idx"),
            models.Index(fields=["status", "created_at"], name="proj_file_stale_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class UploadTombstone(models.Model):
    """A deleted file whose signed upload form may still be used: S3 cannot revoke a presigned POST,
    so until the form expires it can store the object again with no row to count it. Its bytes keep
    counting against the owner's storage until ``services.upload_tombstones_purge`` deletes the
    object, once the form has expired. No foreign keys: a tombstone outlives its project and its
    owner (erasure), and names the owner only by a keyed hash (``services.owner_ref``)."""

    owner_ref = models.CharField(max_length=64, db_index=True)
    key = models.CharField(max_length=255)
    size = models.BigIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.key


class Verb(models.TextChoices):
    PROJECT_CREATED = "project.created"
    PROJECT_RENAMED = "project.renamed"
    PROJECT_UPDATED = "project.updated"
    PROJECT_ARCHIVED = "project.archived"
    PROJECT_UNARCHIVED = "project.unarchived"
    OWNERSHIP_TRANSFERRED = "project.ownership_transferred"
    MEMBER_INVITED = "member.invited"
    INVITATION_REVOKED = "member.invitation_revoked"
    MEMBER_JOINED = "member.joined"
    MEMBER_REMOVED = "member.removed"
    MEMBER_LEFT = "member.left"
    ROLE_CHANGED = "member.role_changed"
    FILE_UPLOADED = "file.uploaded"
    FILE_DELETED = "file.deleted"


class Activity(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="activities")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    verb = models.CharField(max_length=40, choices=Verb.choices)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=["project", "-created_at"], name="proj_activity_idx")]

    def __str__(self) -> str:
        return f"{self.verb} on {self.project_id}"
