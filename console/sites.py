"""The admin site staff use: dashboard index, throttled login, TOTP second factor when required."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from .forms import ConsoleLoginForm, two_factor_required


class ConsoleAdminSite(admin.AdminSite):
    site_header = "StackPro console"
    site_title = "StackPro console"
    index_title = "Dashboard"
    index_template = "console/index.html"
    login_template = "console/login.html"
    login_form = ConsoleLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        """Active staff; with ADMIN_REQUIRE_2FA also verified by a TOTP device in this session."""
        if not super().has_permission(request):
            return False
        if two_factor_required():
            is_verified = getattr(request.user, "is_verified", None)
            return bool(is_verified and is_verified())
        return True

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        from .metrics import dashboard_for

        context = {"dashboard": dashboard_for(request.user), **(extra_context or {})}
        return super().index(request, context)
