"""Views of the projects API: validate → one selector/service → serialize. Every project URL
resolves the project through ``project_get_for_user`` (404 for non-members) and checks the role
with ``require_role``."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import VerifiedEmail
from core.api import paginate, validate
from core.pagination import LimitOffsetPagination
from core.schema import error_responses

from . import selectors, services, storage
from .errors import FileNotReady
from .models import FileStatus, Role
from .serializers import (
    AcceptSerializer,
    ActivitySerializer,
    DirectUploadSerializer,
    FileListQuerySerializer,
    FileSerializer,
    InvitationSerializer,
    InviteSerializer,
    MembershipSerializer,
    MemberUpdateSerializer,
    MultipartUploadSerializer,
    ProjectCreateSerializer,
    ProjectListQuerySerializer,
    ProjectSerializer,
    ProjectUpdateSerializer,
    TransferSerializer,
    UploadStartSerializer,
    project_rows,
)

OWNER = (Role.OWNER,)
WRITERS = (Role.OWNER, Role.EDITOR)
PAGING_PARAMS = frozenset({"limit", "offset"})


class ProjectScopedView(APIView):
    """Base: ``self.project_for(request, project_id, *roles)`` fetches and checks in one step."""

    pagination_class = LimitOffsetPagination  # schema only: lists are paginated by ``core.api.paginate``

    def project_for(self, request: Request, project_id: Any, *roles: str) -> Any:
        project = selectors.project_get_for_user(project_id=project_id, user=request.user)
        if roles:
            selectors.require_role(project.membership, *roles)  # type: ignore[attr-defined]
        return project


class ProjectListView(APIView):
    pagination_class = LimitOffsetPagination  # schema only: the list is paginated by ``core.api.paginate``

    @extend_schema(
        parameters=[ProjectListQuerySerializer],
        responses=ProjectSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        # The plain first page (only limit/offset, or nothing) skips the filter serializer.
        if PAGING_PARAMS.issuperset(request.query_params):
            query: dict[str, Any] = {}
        else:
            query = validate(ProjectListQuerySerializer, request.query_params)
        return paginate(
            request,
            lambda limit, offset: selectors.project_page_for_user(
                user=request.user, limit=limit, offset=offset, **query
            ),  # the selector pages in SQL
            project_rows,
        )

    @extend_schema(request=ProjectCreateSerializer, responses={201: ProjectSerializer, **error_responses(402)})
    def post(self, request: Request) -> Response:
        data = validate(ProjectCreateSerializer, request.data)
        project = services.project_create(owner=request.user, **data)
        project = selectors.project_get_for_user(project_id=project.pk, user=request.user)
        return Response(ProjectSerializer(project).data, status=201)


class ProjectDetailView(ProjectScopedView):
    @extend_schema(responses=ProjectSerializer)
    def get(self, request: Request, project_id: str) -> Response:
        return Response(ProjectSerializer(self.project_for(request, project_id)).data)

    @extend_schema(request=ProjectUpdateSerializer, responses={200: ProjectSerializer, **error_responses(409)})
    def patch(self, request: Request, project_id: str) -> Response:
        project = self.project_for(request, project_id, *WRITERS)
        data = validate(ProjectUpdateSerializer, request.data)
        project = services.project_update(project=project, actor=request.user, **data)
        return Response(ProjectSerializer(project).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, project_id: str) -> Response:
        project = self.project_for(request, project_id, *OWNER)
        services.project_delete(project=project, actor=request.user)
        return Response(status=204)


class ProjectTransferView(ProjectScopedView):
    @extend_schema(request=TransferSerializer, responses={200: ProjectSerializer, **error_responses(402, 409)})
    def post(self, request: Request, project_id: str) -> Response:
        project = self.project_for(request, project_id, *OWNER)
        data = validate(TransferSerializer, request.data)
        services.project_transfer(project=project, actor=request.user, user_id=data["user_id"])
        return Response(ProjectSerializer(self.project_for(request, project_id)).data)


class MemberListView(ProjectScopedView):
    permission_classes = [IsAuthenticated, VerifiedEmail]  # an invitation mails any address

    @extend_schema(responses=MembershipSerializer(many=True))
    def get(self, request: Request, project_id: str) -> Response:
        project = self.project_for(request, project_id)
        return paginate(request, selectors.member_list(project=project), MembershipSerializer)

    @extend_schema(request=InviteSerializer, responses={201: InvitationSerializer, **error_responses(402, 409)})
    def post(self, request: Request, project_id: str) -> Response:
        project = self.project_for(request, project_id, *OWNER)
        data = validate(InviteSerializer, request.data)
        invitation = services.member_invite(project=project, actor=request.user, **data)
        return Response(InvitationSerializer(invitation).data, status=201)


class MemberDetailView(ProjectScopedView):
    @extend_schema(request=MemberUpdateSerializer, responses={200: MembershipSerializer, **error_responses(409)})
    def patch(self, request: Request, project_id: str, member_id: str) -> Response:
        project = self.project_for(request, project_id, *OWNER)
        membership = selectors.member_get(project=project, member_id=member_id)
        data = validate(MemberUpdateSerializer, request.data)
        membership = services.member_change_role(membership=membership, actor=request.user, role=data["role"])
        return Response(MembershipSerializer(membership).data)

    @extend_schema(responses={204: None, **error_responses(409)})
    def delete(self, request: Request, project_id: str, member_id: str) -> Response:
        project = self.project_for(request, project_id)
        membership = selectors.member_get(project=project, member_id=member_id)
        if membership.user_id != request.user.pk:  # anyone may leave; only the owner removes others
            selectors.require_role(project.membership, *OWNER)  # type: ignore[attr-defined]
        services.member_remove(membership=membership, actor=request.user)
        return Response(status=204)


class InvitationListView(ProjectScopedView):
    @extend_schema(responses=InvitationSerializer(many=True))
    def get(self, request: Request, project_id: str) -> Response:
        project = self.project_for(request, project_id, *OWNER)
        return paginate(request, selectors.invitation_list_pending(project=project), InvitationSerializer)


class InvitationDetailView(ProjectScopedView):
    @extend_schema(responses={204: None, **error_responses(409)})
    def delete(self, request: Request, project_id: str, invitation_id: str) -> Response:
        project = self.project_for(request, project_id, *OWNER)
        invitation = selectors.invitation_get(project=project, invitation_id=invitation_id)
        services.invitation_revoke(invitation=invitation, actor=request.user)
        return Response(status=204)


class InvitationAcceptView(APIView):
    @extend_schema(request=AcceptSerializer, responses={200: ProjectSerializer, **error_responses(402, 409)})
    def post(self, request: Request) -> Response:
        data = validate(AcceptSerializer, request.data)
        membership = services.invitation_accept(user=request.user, **data)
        project = selectors.project_get_for_user(project_id=membership.project_id, user=request.user)
        return Response(ProjectSerializer(project).data)


class FileListView(ProjectScopedView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        parameters=[FileListQuerySerializer],
        responses=FileSerializer(many=True),
    )
    def get(self, request: Request, project_id: str) -> Response:
        project = self.project_for(request, project_id)
        query = validate(FileListQuerySerializer, request.query_params)
        return paginate(request, selectors.file_list(project=project, **query), FileSerializer)

    @extend_schema(
        request={"multipart/form-data": MultipartUploadSerializer},
        responses={201: FileSerializer, **error_responses(402, 409, 413, 502)},
    )
    def post(self, request: Request, project_id: str) -> Response:
        project = self.project_for(request, project_id, *WRITERS)
        data = validate(MultipartUploadSerializer, request.data)
        file = services.file_upload_multipart(project=project, actor=request.user, upload=data["file"])
        return Response(FileSerializer(file).data, status=201)


class FileUploadStartView(ProjectScopedView):
    @extend_schema(
        request=UploadStartSerializer, responses={201: DirectUploadSerializer, **error_responses(402, 409, 502)}
    )
    def post(self, request: Request, project_id: str) -> Response:
        project = self.project_for(request, project_id, *WRITERS)
        data = validate(UploadStartSerializer, request.data)
        upload = services.file_upload_start(project=project, actor=request.user, **data)
        return Response(DirectUploadSerializer(upload).data, status=201)


class FileCompleteView(ProjectScopedView):
    @extend_schema(request=None, responses={200: FileSerializer, **error_responses(402, 409, 502)})
    def post(self, request: Request, project_id: str, file_id: str) -> Response:
        project = self.project_for(request, project_id, *WRITERS)
        file = services.file_upload_complete(project=project, actor=request.user, file_id=file_id)
        return Response(FileSerializer(file).data)


class FileDetailView(ProjectScopedView):
    @extend_schema(responses=FileSerializer)
    def get(self, request: Request, project_id: str, file_id: str) -> Response:
        project = self.project_for(request, project_id)
        return Response(FileSerializer(selectors.file_get(project=project, file_id=file_id)).data)

    @extend_schema(responses={204: None, **error_responses(409, 502)})
    def delete(self, request: Request, project_id: str, file_id: str) -> Response:
        project = self.project_for(request, project_id, *WRITERS)
        file = selectors.file_get(project=project, file_id=file_id)
        services.file_delete(project=project, actor=request.user, file=file)
        return Response(status=204)


class FileDownloadView(ProjectScopedView):
    """The file itself (local storage) or a redirect to a short-lived signed S3 URL (S3 storage)."""

    @extend_schema(
        responses={
            (200, "*/*"): OpenApiResponse(
                response=OpenApiTypes.BINARY,
                description="The file, as an attachment (local storage), with its own content type.",
            ),
            302: OpenApiResponse(description="S3 storage: a redirect to a short-lived signed URL of the file."),
            **error_responses(409, 502),
        },
        parameters=[
            OpenApiParameter(
                "Content-Disposition",
                location=OpenApiParameter.HEADER,
                response=[200],
                required=True,
                description="attachment; filename=... (RFC 6266, with filename* for non-ASCII names).",
            ),
            OpenApiParameter(
                "Location",
                location=OpenApiParameter.HEADER,
                response=[302],
                required=True,
                description="The signed URL; it sets the download name and content type itself.",
            ),
        ],
    )
    def get(self, request: Request, project_id: str, file_id: str) -> Any:
        project = self.project_for(request, project_id)
        file = selectors.file_get(project=project, file_id=file_id)
        if file.status != FileStatus.READY:
            raise FileNotReady()
        if storage.is_s3():
            return HttpResponseRedirect(
                storage.download_url(key=file.key, name=file.name, content_type=file.content_type)
            )
        response = FileResponse(
            storage.open_file(file.key), as_attachment=True, filename=file.name, content_type=file.content_type
        )
        return response


class ActivityListView(ProjectScopedView):
    @extend_schema(responses=ActivitySerializer(many=True))
    def get(self, request: Request, project_id: str) -> Response:
        project = self.project_for(request, project_id)
        return paginate(request, selectors.activity_list(project=project), ActivitySerializer)
