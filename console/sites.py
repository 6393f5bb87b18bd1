"""The admin site staff use: dashboard index, throttled login, TOTP second factor when required."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from .forms import ConsoleLoginForm, two_factor_required

# The index's sections beyond one per app: the visible part of dj-stripe's mirror (billing/admin.py)
# joins billing's own models; internal tables go under one "Operations" heading.
SECTIONS = {"djstripe": "billing", "core": "operations", "token_blacklist": "operations"}
SECTION_NAMES = {"billing": "Billing", "operations": "Operations"}


class ConsoleAdminSite(admin.AdminSite):
    """Every app's admin.py is imported the first time the registry is read — the admin's URLs
    (console/urls.py), its checks, ``is_registered`` — not at start-up: ~25 ms (dj-stripe's admin,
    forms) of a plain Lambda cold start that API requests never use (docs/performance.md)."""

    site_header = "StackPro console"
    site_title = "StackPro console"
    index_title = "Dashboard"
    index_template = "console/index.html"
    login_template = "console/login.html"
    login_form = ConsoleLoginForm

    _discovered = False

    @property  # type: ignore[override]
    def _registry(self) -> dict[Any, Any]:
        if not self._discovered:
            self._discovered = True  # before autodiscover, whose register() calls read the registry
            admin.autodiscover()
        return self._models

    @_registry.setter
    def _registry(self, value: dict[Any, Any]) -> None:  # AdminSite.__init__
        self._models = value

    def has_permission(self, request: HttpRequest) -> bool:
        """Active staff; with ADMIN_REQUIRE_2FA also verified by a TOTP device in this session."""
        if not super().has_permission(request):
            return False
        if two_factor_required():
            is_verified = getattr(request.user, "is_verified", None)
            return bool(is_verified and is_verified())
        return True

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:
            return app_list
        sections: dict[str, dict[str, Any]] = {}
        for app in app_list:
            key = SECTIONS.get(app["app_label"], app["app_label"])
            section = sections.setdefault(key, {**app, "app_label": key, "models": []})
            if key == app["app_label"]:  # the app itself: its name and page
                section.update({k: v for k, v in app.items() if k != "models"})
            section["models"].extend(app["models"])
        real_apps = {app["app_label"] for app in app_list}
        for key, section in sections.items():
            section["name"] = SECTION_NAMES.get(key, section["name"])
            if key not in real_apps:  # no app page to link to: the first table's
                section["app_url"] = section["models"][0]["admin_url"] or ""
            section["models"].sort(key=lambda m: m["name"])
        return sorted(sections.values(), key=lambda x: x["name"].lower())

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        from .metrics import dashboard_for

        context = {"dashboard": dashboard_for(request.user), **(extra_context or {})}
        return super().index(request, context)
