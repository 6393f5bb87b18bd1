"""Thin views of /api/v1/assistant/: validate → one service or selector → serialize."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import VerifiedEmail
from core.schema import ErrorSerializer

from . import selectors, services
from .models import Conversation, Message
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

ERROR = OpenApiResponse(response=ErrorSerializer)


class ConversationListCreateView(GenericAPIView):
    serializer_class = ConversationSerializer
    permission_classes = [IsAuthenticated, VerifiedEmail]
    queryset = Conversation.objects.none()  # schema only: every read goes through a selector

    @extend_schema(
        parameters=[
            OpenApiParameter("project", OpenApiTypes.UUID, description="Only conversations about this project.")
        ],
        responses={200: ConversationSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        filters = ConversationFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.conversation_list_for_user(user=request.user, project_id=filters.validated_data["project"])
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ConversationSerializer(page, many=True).data)

    @extend_schema(request=ConversationCreateSerializer, responses={201: ConversationSerializer})
    def post(self, request: Request) -> Response:
        data = ConversationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = services.conversation_create(
            user=request.user, title=data.validated_data["title"], project_id=data.validated_data["project"]
        )
        return Response(ConversationSerializer(conversation).data, status=status.HTTP_201_CREATED)


class ConversationDetailView(GenericAPIView):
    serializer_class = ConversationDetailSerializer
    queryset = Conversation.objects.none()

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
        data = ConversationRenameSerializer(data=request.data)
        if not data.is_valid():  # another user's conversation is a 404 whatever the body
            selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id)
            raise ValidationError(data.errors)
        conversation = services.conversation_rename(
            user=request.user, conversation_id=conversation_id, title=data.validated_data["title"]
        )
        conversation.message_count = conversation.messages.count()  # type: ignore[attr-defined]
        return Response(ConversationSerializer(conversation).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, conversation_id: Any) -> Response:
        services.conversation_delete(user=request.user, conversation_id=conversation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageListCreateView(GenericAPIView):
    serializer_class = MessageSerializer
    permission_classes = [IsAuthenticated, VerifiedEmail]  # a send spends Anthropic tokens
    queryset = Message.objects.none()

    @extend_schema(responses={200: MessageSerializer(many=True)})
    def get(self, request: Request, conversation_id: Any) -> Response:
        qs = selectors.message_list_for_conversation(user=request.user, conversation_id=conversation_id)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(
        request=MessageCreateSerializer,
        responses={201: ReplySerializer, 402: ERROR, 502: ERROR, 504: ERROR},
        description=(
            "Send a message and get Claude's reply. Errors: 400 message_too_long, 402 plan_limit_exceeded, "
            "429 throttled / assistant_rate_limited, 502 assistant_upstream_error, 503 assistant_unavailable, "
            "504 assistant_timeout. The user's message is kept when the upstream call fails."
        ),
    )
    def post(self, request: Request, conversation_id: Any) -> Response:
        data = MessageCreateSerializer(data=request.data)
        if not data.is_valid():  # another user's conversation is a 404 whatever the body
            selectors.conversation_get_for_user(user=request.user, conversation_id=conversation_id)
            raise ValidationError(data.errors)
        result = services.message_send(
            user=request.user, conversation_id=conversation_id, content=data.validated_data["content"]
        )
        return Response(ReplySerializer(result.reply).data, status=status.HTTP_201_CREATED)


class UsageView(GenericAPIView):
    serializer_class = UsageSummarySerializer
    pagination_class = None

    @extend_schema(responses={200: UsageSummarySerializer})
    def get(self, request: Request) -> Response:
        return Response(UsageSummarySerializer(selectors.usage_summary_for_user(user=request.user)).data)
