"""Who may read the OpenAPI schema and the Swagger UI (``API_DOCS_ACCESS``: public, staff, off).

"staff" means whoever the admin site lets in, through the admin's own session: active staff and,
with ``ADMIN_REQUIRE_2FA``, a session that passed the TOTP login. A JWT never opens them: staff get
API tokens with the password alone, so a token must carry nothing staff-only (docs/security.md).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer

# The admin's session only: no JWT authentication on these views.
DOCS_AUTHENTICATION = [SessionAuthentication]


class DocsAccess(BasePermission):
    """``API_DOCS_ACCESS``, read on every request: public, staff (the admin site's own check), off."""

    def has_permission(self, request: Any, view: Any) -> bool:
        access = settings.API_DOCS_ACCESS
        if access == "public":
            return True
        if access == "staff":
            return admin.site.has_permission(request._request)
        return False


class JSONErrorsMixin:
    """Errors as the JSON envelope like every other error, whatever the view renders on success
    (YAML for the schema, HTML for the Swagger UI)."""

    def handle_exception(self, exc: Exception) -> Any:
        response = super().handle_exception(exc)  # type: ignore[misc]
        self.request.accepted_renderer = JSONRenderer()  # type: ignore[attr-defined]
        self.request.accepted_media_type = "application/json"  # type: ignore[attr-defined]
        return response


class SchemaView(JSONErrorsMixin, SpectacularAPIView):
    """The OpenAPI schema."""


class DocsView(JSONErrorsMixin, SpectacularSwaggerSplitView):
    """The Swagger UI, served without a CDN."""
