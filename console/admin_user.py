"""The user page staff work from: search, profile, plan, usage, auth events, projects, and actions.

Extends accounts' UserAdmin and re-registers User with it (console's admin module is imported
last). Each action runs the owning app's service through ``console.actions.USER_ACTIONS``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from accounts.admin import UserAdmin as AccountsUserAdmin
from billing.selectors import entitlements_for_user

from . import panels
from .actions import USER_ACTIONS

User = get_user_model()


class ConsoleUserAdmin(AccountsUserAdmin):
    """accounts' UserAdmin (forms, fieldsets, bulk actions through its services) plus the console's
    page: status, plan, usage, auth events, projects and one-click actions per user."""

    change_form_template = "console/user_change_form.html"
    list_filter = [*AccountsUserAdmin.list_filter, "groups"]
    date_hierarchy = "date_joined"
    search_help_text = "Search by email or name"
    list_per_page = 50
    show_full_result_count = False

    def get_urls(self) -> list:
        return [
            path(
                "<path:object_id>/console/<str:action>/",
                self.admin_site.admin_view(self.console_action_view),
                name=f"{self.opts.app_label}_{self.opts.model_name}_console_action",
            ),
            *super().get_urls(),
        ]

    # -- the page ---------------------------------------------------------------------------------
    def available_actions(self, request: HttpRequest, user: Any) -> list[dict]:
        out = []
        for action, spec in USER_ACTIONS.items():
            if not request.user.has_perm(spec.permission):
                continue
            if action == "deactivate" and not user.is_active or action == "reactivate" and user.is_active:
                continue
            if action == "resend_verification" and user.email_verified:
                continue
            url = reverse(f"{self.admin_site.name}:accounts_user_console_action", args=[user.pk, action])
            out.append({"action": action, "label": spec.label, "url": url, "confirm": spec.confirm})
        return out

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        user = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if user is not None and self.has_view_or_change_permission(request, user):
            ents = entitlements_for_user(user=user)
            extra.update(
                console_entitlements=ents,
                console_usage=panels.usage_against_limits(user, ents),
                console_subscriptions=panels.subscriptions(user),
                console_panels=panels.panels_for(user),
                console_actions=self.available_actions(request, user),
            )
        return super().change_view(request, object_id, form_url, extra)

    # -- actions ----------------------------------------------------------------------------------
    def console_action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        if action not in USER_ACTIONS:
            raise Http404("No such action.")
        spec = USER_ACTIONS[action]
        label, confirm = spec.label, spec.confirm
        if not request.user.has_perm(spec.permission):
            raise PermissionDenied
        user = self.get_object(request, object_id)
        if user is None:
            raise Http404("No such user.")
        change_url = reverse(f"{self.admin_site.name}:accounts_user_change", args=[user.pk])
        if confirm and request.method == "GET":
            return TemplateResponse(
                request,
                "console/user_action_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "original": user,
                    "title": f"{label.rstrip('…')}: {user.email}",
                    "action_label": label.rstrip("…"),
                    "change_url": change_url,
                },
            )
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if confirm and request.POST.get("confirm_email", "").strip().lower() != user.email:
            self.message_user(request, "Type the account's email address to confirm.", messages.ERROR)
            return HttpResponseRedirect(request.path)
        return self._run(request, user, action, label.rstrip("…"), change_url)

    def _run(self, request: HttpRequest, user: Any, action: str, label: str, change_url: str) -> HttpResponse:
        email = user.email
        if action == "erase":  # logged first: afterwards there is no user left to point at
            self.log_change(request, user, f"Console action: {label}")
        try:
            detail = USER_ACTIONS[action].run(user=user, request=request)
        except Exception as exc:  # noqa: BLE001 — show staff what failed instead of a 500
            self.message_user(request, f"{label} failed: {exc}", messages.ERROR)
            return HttpResponseRedirect(change_url)
        self.message_user(request, f"{label} — {email}: {detail or 'done'}.", messages.SUCCESS)
        if action == "erase":
            return HttpResponseRedirect(reverse(f"{self.admin_site.name}:accounts_user_changelist"))
        self.log_change(request, user, f"Console action: {label}")
        return HttpResponseRedirect(change_url)


def register(site: admin.AdminSite) -> None:
    if site.is_registered(User):
        site.unregister(User)
    site.register(User, ConsoleUserAdmin)
