"""Who may read the OpenAPI schema and the Swagger UI (``API_DOCS_ACCESS``: public, staff, off)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.views import SpectacularAPIView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, BasePermission, IsAdminUser
from rest_framework.renderers import JSONRenderer
from rest_framework_simplejwt.authentication import JWTAuthentication

# Staff reach the docs from the admin (session) or with a token.
DOCS_AUTHENTICATION = [SessionAuthentication, JWTAuthentication]


class Nobody(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return False


def docs_permission() -> list[type[BasePermission]]:
    access = getattr(settings, "API_DOCS_ACCESS", "public")
    choices: dict[str, list[type[BasePermission]]] = {"public": [AllowAny], "staff": [IsAdminUser], "off": [Nobody]}
    return choices.get(access, [Nobody])


class SchemaView(SpectacularAPIView):
    """The schema view, whose errors are JSON like every other error (not YAML)."""

    def handle_exception(self, exc: Exception) -> Any:
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return response
