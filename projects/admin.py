"""Admin of projects."""

from typing import Any

from django.contrib import admin

from .models import Activity, File, Invitation, Membership, Project, UploadTombstone


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "archived", "created_at", "updated_at"]
    list_filter = ["archived", "created_at"]
    search_fields = ["name", "owner__email", "id"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["project", "user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["project__name", "user__email"]
    list_select_related = ["project", "user"]
    raw_id_fields = ["project", "user"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "project", "role", "invited_by", "expires_at", "accepted_at", "revoked"]
    list_filter = ["role", "revoked", "expires_at"]
    search_fields = ["email", "project__name"]
    list_select_related = ["project", "invited_by"]
    raw_id_fields = ["project", "invited_by", "accepted_by"]
    readonly_fields = ["token_hash"]


@admin.register(File)
class FileAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "size", "content_type", "status", "uploaded_by", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["name", "key", "project__name"]
    list_select_related = ["project", "uploaded_by"]
    raw_id_fields = ["project", "uploaded_by"]
    readonly_fields = ["key"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["verb", "project", "actor", "created_at"]
    list_filter = ["verb", "created_at"]
    search_fields = ["project__name", "actor__email"]
    list_select_related = ["project", "actor"]
    raw_id_fields = ["project", "actor"]


@admin.register(UploadTombstone)
class UploadTombstoneAdmin(admin.ModelAdmin):
    """Read-only: tombstones are written and purged by projects.services only."""

    list_display = ["key", "size", "expires_at"]
    list_filter = ["expires_at"]
    search_fields = ["key"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
