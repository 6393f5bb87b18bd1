"""Root URLs: each app's API under /api/v1/<app>/, health, schema and docs, the admin.

The webhooks' and the admin's URL modules are imported when a path under them is first resolved
(``on_first_use``), not with this module: an API request never tries them, and a plain Lambda cold
start leaves out anymail's SES view (boto3) and every app's admin.py (console/sites.py). Reversing
any URL loads them all (Django's resolver fills its reverse index from every pattern).
"""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from accounts.docs import DOCS_AUTHENTICATION, DocsAccess, DocsView, SchemaView
from core import views as core_views


def on_first_use(module: str, namespace: str) -> tuple[str, str, str]:
    """``include(module)`` with the module imported by the resolver on first use (a URLResolver
    given a module's name imports it then); its ``app_name`` is ``namespace``."""
    return module, namespace, namespace


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
    path("stripe/", on_first_use("djstripe.urls", "djstripe")),
    path("anymail/", on_first_use("notifications.webhooks", "anymail")),
    path(settings.ADMIN_URL, on_first_use("console.urls", admin.site.name)),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
