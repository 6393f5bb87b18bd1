"""Serializers of the projects API: input serializers accept only the fields a client may set
(owner, size, status, key, ids are never read from a request body)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from core.serializers import StrictSerializer

from .models import Activity, File, Invitation, Membership, Project, Role
from .selectors import FILE_ORDERINGS, PROJECT_ORDERINGS


class UserBriefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    email = serializers.EmailField()


class UserPublicSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ProjectSerializer(serializers.ModelSerializer):
    owner = UserPublicSerializer(read_only=True)
    role = serializers.SerializerMethodField()
    member_count = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "name", "description", "owner", "archived", "role", "member_count", "created_at", "updated_at"]
        read_only_fields = fields

    def get_role(self, obj: Project) -> str | None:
        role = getattr(obj, "my_role", None)
        if role is None and hasattr(obj, "membership"):
            role = obj.membership.role
        return role

    def get_member_count(self, obj: Project) -> int:
        count = getattr(obj, "member_count", None)
        return obj.memberships.count() if count is None else count  # lists annotate it


def project_rows(rows: Any) -> list[dict[str, Any]]:
    """``ProjectSerializer``'s output, field for field, from ``selectors.project_page_for_user``
    rows (tuples in ``PROJECT_ROW_FIELDS`` order whose ids and datetimes are already text). The
    list is the most requested read: plain dicts cost a fraction of a ModelSerializer with nested
    and method fields (docs/performance.md). ``tests/projects/test_project_page.py`` checks both
    shapes stay identical."""
    return [
        {
            "id": project_id,
            "name": name,
            "description": description,
            "owner": {"id": owner_id, "name": owner_name},
            "archived": bool(archived),  # as stored: 0/1 on MySQL and SQLite
            "role": role,
            "member_count": member_count,
            "created_at": created_at,
            "updated_at": updated_at,
        }
        for (
            role,
            project_id,
            name,
            description,
            archived,
            owner_id,
            owner_name,
            created_at,
            updated_at,
            member_count,
        ) in rows
    ]


class ProjectCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, trim_whitespace=True)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ProjectUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, trim_whitespace=True, required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    archived = serializers.BooleanField(required=False)


class ProjectListQuerySerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    archived = serializers.BooleanField(required=False, allow_null=True, default=None)
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Search in names and descriptions (empty: no filter).",
    )
    # Left out: newest first. Empty is refused like any typed value (core.serializers).
    ordering = serializers.ChoiceField(
        choices=list(PROJECT_ORDERINGS), required=False, help_text="'-' for descending; left out: -created."
    )


class TransferSerializer(StrictSerializer):
    user_id = serializers.UUIDField(help_text="The member who becomes the owner.")


# "Member" in the schema, as in the API's paths (``members/{member_id}/``): the name is how a client,
# or a fuzzer inferring links, matches these ids to ``member_id``. As "Membership" the only match
# for ``member_id`` was the Invitation that ``POST members/`` answers with (full fuzz run, seed 11).
@extend_schema_serializer(component_name="Member")
class MembershipSerializer(serializers.ModelSerializer):
    user = UserBriefSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "created_at"]
        read_only_fields = fields


def _not_owner(value: str) -> None:
    # One Role enum in the schema (a narrower choice set would make a second, clashing one).
    if value == Role.OWNER:
        raise serializers.ValidationError("Must be editor or viewer (ownership moves with transfer/).")


class InviteSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices, validators=[_not_owner])


class MemberUpdateSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=Role.choices, validators=[_not_owner])


class InvitationSerializer(serializers.ModelSerializer):
    invited_by = UserPublicSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "invited_by", "expires_at", "created_at"]
        read_only_fields = fields


class AcceptSerializer(StrictSerializer):
    """The mailed link's ``token``, or the in-app notice's ``invitation_id``: exactly one."""

    token = serializers.CharField(max_length=200, required=False)
    invitation_id = serializers.UUIDField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("token" in attrs) == ("invitation_id" in attrs):
            raise serializers.ValidationError("Send either token or invitation_id.")
        return attrs


class FileSerializer(serializers.ModelSerializer):
    uploaded_by = UserPublicSerializer(read_only=True, allow_null=True)

    class Meta:
        model = File
        fields = ["id", "name", "size", "content_type", "status", "uploaded_by", "created_at", "updated_at"]
        read_only_fields = fields


class FileListQuerySerializer(StrictSerializer):
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Search in names (empty: no filter)."
    )
    ordering = serializers.ChoiceField(
        choices=list(FILE_ORDERINGS), required=False, help_text="'-' for descending; left out: -created."
    )


class UploadStartSerializer(StrictSerializer):
    name = serializers.CharField(max_length=1024, trim_whitespace=False)
    size = serializers.IntegerField(min_value=1, max_value=2**62)
    content_type = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class MultipartUploadSerializer(StrictSerializer):
    file = serializers.FileField(allow_empty_file=False)


class ActivitySerializer(serializers.ModelSerializer):
    actor = UserPublicSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Activity
        fields = ["id", "verb", "actor", "data", "created_at"]
        read_only_fields = fields


class PresignedPostSerializer(serializers.Serializer):
    """An S3 presigned POST: the browser posts a multipart form to ``url`` with every one of
    ``fields`` first and the file last (docs/api.md)."""

    url = serializers.URLField()
    # DRF's metaclass moves declared fields into ``_declared_fields``, so ``Serializer.fields`` is
    # untouched at run time; only the stubs see a clash with S3's name for the form's fields.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.CharField(), help_text="Form fields to send as they are."
    )


class DirectUploadSerializer(serializers.Serializer):
    file = FileSerializer()
    upload = PresignedPostSerializer()
    expires_at = serializers.DateTimeField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            "file": FileSerializer(instance.file).data,
            "upload": {"url": instance.post.url, "fields": instance.post.fields},
            "expires_at": serializers.DateTimeField().to_representation(instance.expires_at),
        }
