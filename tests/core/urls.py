"""A URLconf of throwaway views that exercise core's conventions (errors, pagination, throttles)."""

from django.contrib.auth import get_user_model
from django.db import OperationalError
from django.urls import include, path
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import Conflict, PlanLimitExceeded
from core.throttling import CacheRateThrottle, client_ip
from stackpro.urls import urlpatterns as project_urlpatterns


class EchoSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    age = serializers.IntegerField(min_value=0)


class EchoView(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class UserRowSerializer(serializers.Serializer):
    email = serializers.EmailField()


class UserListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = UserRowSerializer

    def get_queryset(self):
        return get_user_model().objects.order_by("email")


class ProtectedView(APIView):
    def get(self, request):
        return Response({"id": str(request.user.pk)})


class ErrorView(APIView):
    permission_classes = [AllowAny]

    def get(self, request, kind):
        if kind == "conflict":
            raise Conflict("Already there.")
        if kind == "limit":
            raise PlanLimitExceeded("projects")
        if kind == "model":
            from django.core.exceptions import ValidationError

            raise ValidationError({"title": ["Ensure this value has at most 200 characters."]})
        if kind == "integrity":
            from django.db import IntegrityError

            raise IntegrityError(1452, "Cannot add or update a child row: a foreign key constraint fails")
        if kind == "db":
            raise OperationalError(2003, "Can't connect to MySQL server")
        raise RuntimeError("boom: SELECT secret FROM table")


class ScopedIpThrottle(CacheRateThrottle):
    """Per client IP for the view's ``throttle_scope`` (rates in DEFAULT_THROTTLE_RATES)."""

    def allow_request(self, request, view):
        self.scope = getattr(view, "throttle_scope", "") or ""
        return super().allow_request(request, view)

    def get_ident_key(self, request, view):
        return f"ip:{client_ip(request)}"


class ThrottledView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedIpThrottle]
    throttle_scope = "test_burst"

    def get(self, request):
        return Response({"ok": True})


test_patterns = [
    path("echo/", EchoView.as_view()),
    path("users/", UserListView.as_view()),
    path("protected/", ProtectedView.as_view()),
    path("error/<str:kind>/", ErrorView.as_view()),
    path("throttled/", ThrottledView.as_view()),
]

urlpatterns = [path("api/v1/test/", include(test_patterns)), *project_urlpatterns]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
