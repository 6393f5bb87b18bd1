"""Admin: users (search, filters, deactivate / revoke sessions / erase through the services) and
the auth event log, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from . import services
from .models import AuthEvent, User


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")


class UserChangeForm(DjangoUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


def _others(request: HttpRequest, queryset: QuerySet[User], verb: str) -> list[User]:
    users = list(queryset)
    if any(u.pk == request.user.pk for u in users):
        messages.warning(request, f"You cannot {verb} your own account here; it was skipped.")
    return [u for u in users if u.pk != request.user.pk]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ["email", "name", "email_verified", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = [
        "is_staff",
        "is_superuser",
        "is_active",
        "email_verified",
        ("date_joined", admin.DateFieldListFilter),
    ]
    search_fields = ["email", "name"]
    ordering = ["-date_joined"]
    readonly_fields = ["id", "date_joined", "last_login", "updated_at", "pending_email"]
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        ("Profile", {"fields": ("name", "email_verified", "pending_email")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("date_joined", "last_login", "updated_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),)
    filter_horizontal = ["groups", "user_permissions"]
    actions = ["deactivate", "revoke_sessions", "erase"]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deletion goes through erasure only
        return actions

    def _meta(self, request: HttpRequest) -> services.RequestMeta:
        return services.RequestMeta.from_request(request)

    @admin.action(description="Deactivate and sign out everywhere", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = _others(request, queryset.filter(is_active=True), "deactivate")
        for user in users:
            services.user_deactivate(user=user, meta=self._meta(request), actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"Deactivated {len(users)} account(s).", messages.SUCCESS)

    @admin.action(description="Revoke all sessions (refresh tokens)", permissions=["change"])
    def revoke_sessions(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        total = sum(
            services.tokens_revoke_all(user=user, meta=self._meta(request), reason=f"staff:{request.user.pk}")
            for user in queryset
        )
        self.message_user(request, f"Revoked {total} refresh token(s).", messages.SUCCESS)

    @admin.action(description="Erase account and data (GDPR)…", permissions=["delete"])
    def erase(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
        users = _others(request, queryset, "erase")
        if request.POST.get("post") == "yes":
            for user in users:
                services.user_erase(user, meta=self._meta(request), actor=request.user)  # type: ignore[arg-type]
            self.message_user(request, f"Erased {len(users)} account(s).", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Erase accounts",
            "opts": self.model._meta,
            "users": users,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/accounts/user/erase_confirmation.html", context)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        """The change form's Delete button erases too (same service as DELETE me/)."""
        services.user_erase(obj, meta=self._meta(request), actor=request.user)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            self.delete_model(request, user)


@admin.register(AuthEvent)
class AuthEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "type", "email", "user", "ip", "short_user_agent"]
    list_filter = ["type", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["email", "user__email", "ip"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    readonly_fields = ["id", "type", "user", "email", "ip", "user_agent", "data", "created_at"]
    show_full_result_count = False

    @admin.display(description="user agent")
    def short_user_agent(self, obj: AuthEvent) -> str:
        return obj.user_agent[:60]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
