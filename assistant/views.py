"""Thin views of /api/v1/assistant/: validate → one service or selector → serialize."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import VerifiedEmail
from core.api import paginate, validate
from core.pagination import LimitOffsetPagination
from core.schema import error_responses

from . import selectors, services
from .serializers import (
    ConversationCreateSerializer,
    ConversationDetailSerializer,
    ConversationFilterSerializer,
    ConversationRenameSerializer,
    ConversationSerializer,
    MessageCreateSerializer,
    MessageSerializer,
    ReplySerializer,
    UsageSummarySerializer,
)


class ConversationListCreateView(APIView):
    permission_classes = [IsAuthenticated, VerifiedEmail]
    pagination_class = LimitOffsetPagination  # schema only: the list is paginated by ``core.api.paginate``

    @extend_schema(
        parameters=[
            OpenApiParameter("project", OpenApiTypes.UUID, description="Only conversations about this project.")
        ],
        responses={200: ConversationSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        filters = validate(ConversationFilterSerializer, request.query_params)
        qs = selectors.conversation_list_for_user(user=request.user, project_id=filters["project"])
        return paginate(request, qs, ConversationSerializer)

    @extend_schema(request=ConversationCreateSerializer, responses={201: ConversationSerializer})
    def post(self, request: Request) -> Response:
        data = validate(ConversationCreateSerializer, request.data)
        conversation = services.conversation_create(user=request.user, title=data["title"], project_id=data["project"])
        return Response(ConversationSerializer(conversation).data, status=status.HTTP_201_CREATED)


class ConversationDetailView(APIView):
    @extend_schema(responses={200: ConversationDetailSerializer})
    def get(self, request: Request, conversation_id: Any) -> Response:
        conversation, messages = selectors.conversation_detail_for_user(
            user=request.user, conversation_id=conversation_id
        )
        conversation.message_count = conversation.messages.count()  # type: ignore[attr-defined]
        return Response(ConversationDetailSerializer(conversation, context={"messages": messages}).data)

    # Not a partial update: the title is required (core.schema documents PATCH bodies as validated).
    @extend_schema(request=ConversationRenameSerializer, responses={200: ConversationSerializer})
    def patch(self, request: Request, conversation_id: Any) -> Response:
        data = validate(
            ConversationRenameSerializer,
            request.data,  # another user's conversation is a 404 whatever the body
            on_invalid=lambda: selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id),
        )
        conversation = services.conversation_rename(
            user=request.user, conversation_id=conversation_id, title=data["title"]
        )
        conversation.message_count = conversation.messages.count()  # type: ignore[attr-defined]
        return Response(ConversationSerializer(conversation).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, conversation_id: Any) -> Response:
        services.conversation_delete(user=request.user, conversation_id=conversation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageListCreateView(APIView):
    permission_classes = [IsAuthenticated, VerifiedEmail]  # a send spends Anthropic tokens
    pagination_class = LimitOffsetPagination  # schema only: the list is paginated by ``core.api.paginate``

    @extend_schema(responses={200: MessageSerializer(many=True)})
    def get(self, request: Request, conversation_id: Any) -> Response:
        qs = selectors.message_list_for_conversation(user=request.user, conversation_id=conversation_id)
        return paginate(request, qs, MessageSerializer)

    @extend_schema(
        request=MessageCreateSerializer,
        responses={201: ReplySerializer, **error_responses(402, 502, 504)},
        description=(
            "Send a message and get Claude's reply. Errors: 400 message_too_long, 402 plan_limit_exceeded, "
            "429 throttled / assistant_rate_limited, 502 assistant_upstream_error, 503 assistant_unavailable, "
            "504 assistant_timeout. The user's message is kept when the upstream call fails."
        ),
    )
    def post(self, request: Request, conversation_id: Any) -> Response:
        data = validate(
            MessageCreateSerializer,
            request.data,  # another user's conversation is a 404 whatever the body
            on_invalid=lambda: selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id),
        )
        result = services.message_send(user=request.user, conversation_id=conversation_id, content=data["content"])
        return Response(ReplySerializer(result.reply).data, status=status.HTTP_201_CREATED)


class UsageView(APIView):
    @extend_schema(responses={200: UsageSummarySerializer})
    def get(self, request: Request) -> Response:
        return Response(UsageSummarySerializer(selectors.usage_summary_for_user(user=request.user)).data)
