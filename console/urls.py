"""The admin's URLs (stackpro/urls.py mounts them at ADMIN_URL, imported on first use): building them
registers every app's admin.py (console/sites.py)."""

from django.contrib import admin

app_name = "admin"
urlpatterns = admin.site.get_urls()
