"""Root URLs: each app's API under /api/v1/<app>/, health, schema and docs, the admin."""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from accounts.docs import DOCS_AUTHENTICATION, DocsAccess, DocsView, SchemaView
from core import views as core_views

api_v1: list[URLPattern | URLResolver] = [
    path("health/", core_views.HealthView.as_view(), name="health"),
    path("health/ready/", core_views.ReadyView.as_view(), name="health-ready"),
    path("auth/", include("accounts.urls")),
    path("projects/", include("projects.urls")),
    path("invitations/", include("projects.invitation_urls")),
    path("billing/", include("billing.urls")),
    path("assistant/", include("assistant.urls")),
    path("notifications/", include("notifications.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path(
        "api/schema/",
        SchemaView.as_view(authentication_classes=DOCS_AUTHENTICATION, permission_classes=[DocsAccess]),
        name="schema",
    ),
    path(
        "api/docs/",
        DocsView.as_view(
            url_name="schema", authentication_classes=DOCS_AUTHENTICATION, permission_classes=[DocsAccess]
        ),
        name="docs",
    ),
    path("stripe/", include("djstripe.urls", namespace="djstripe")),
    path("anymail/", include("notifications.webhooks")),
    path(settings.ADMIN_URL, admin.site.urls),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
