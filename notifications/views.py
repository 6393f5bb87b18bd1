"""The notifications API: inbox, unread count, read state, preferences, unsubscribe."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import paginate, validate
from core.pagination import LimitOffsetPagination

from . import selectors, services
from .serializers import (
    NotificationListQuerySerializer,
    NotificationSerializer,
    PreferencesSerializer,
    PreferencesUpdateSerializer,
    ReadAllResultSerializer,
    ReadAllSerializer,
    UnreadCountSerializer,
    UnsubscribeResultSerializer,
)


class NotificationListView(APIView):
    """My notifications, newest first (``?unread=true|false``, ``?category=``)."""

    pagination_class = LimitOffsetPagination  # schema only: the list is paginated by ``core.api.paginate``

    @extend_schema(
        parameters=[
            OpenApiParameter("unread", bool, required=False),
            OpenApiParameter("category", str, required=False, enum=[c for c, _ in services.Category.choices]),
        ],
        responses=NotificationSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = validate(NotificationListQuerySerializer, request.query_params)
        notifications = selectors.notification_list(
            user=request.user, unread=query.get("unread"), category=query.get("category")
        )
        return paginate(request, notifications, NotificationSerializer)


class UnreadCountView(APIView):
    """``{count}`` of my unread notifications: one indexed COUNT query."""

    @extend_schema(responses={200: UnreadCountSerializer})
    def get(self, request: Request) -> Response:
        return Response({"count": selectors.unread_count(user=request.user)})


class NotificationReadView(APIView):
    @extend_schema(request=None, responses={200: NotificationSerializer})
    def post(self, request: Request, pk: Any) -> Response:
        notification = services.notification_mark_read(user=request.user, notification_id=pk)
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllView(APIView):
    @extend_schema(request=ReadAllSerializer, responses={200: ReadAllResultSerializer})
    def post(self, request: Request) -> Response:
        data = validate(ReadAllSerializer, request.data)
        updated = services.notifications_mark_all_read(user=request.user, category=data.get("category"))
        return Response({"updated": updated})


class NotificationDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: Any) -> Response:
        services.notification_delete(user=request.user, notification_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PreferencesView(APIView):
    """Per category × channel (``in_app``, ``email``) and the digest frequency. PUT is partial:
    categories and channels left out keep their value; security cannot be turned off (400
    ``preference_locked``)."""

    @extend_schema(responses={200: PreferencesSerializer})
    def get(self, request: Request) -> Response:
        return Response(PreferencesSerializer(services.preferences_get(user=request.user)).data)

    @extend_schema(request=PreferencesUpdateSerializer, responses={200: PreferencesSerializer})
    def put(self, request: Request) -> Response:
        data = validate(PreferencesUpdateSerializer, request.data)
        result = services.preferences_update(
            user=request.user, categories=data.get("categories"), digest_frequency=data.get("digest_frequency")
        )
        return Response(PreferencesSerializer(result).data)


class UnsubscribeView(APIView):
    """No login: the signed token names the user and the category (or ``digest``).

    GET describes the token (the frontend page shows it) and changes nothing, so link scanners
    that prefetch URLs unsubscribe nobody. POST unsubscribes — it is also the RFC 8058 one-click
    target (``List-Unsubscribe=One-Click`` form body; the body is not needed).
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    schema_public = True

    @extend_schema(responses={200: UnsubscribeResultSerializer})
    def get(self, request: Request, token: str) -> Response:
        return Response(services.unsubscribe_describe(token=token))

    @extend_schema(request=None, responses={200: UnsubscribeResultSerializer})
    def post(self, request: Request, token: str) -> Response:
        return Response(services.unsubscribe_apply(token=token))
