"""URLs of the notifications API, mounted under /api/v1/notifications/."""

from django.urls import path  # noqa: F401

app_name = "notifications"

urlpatterns: list = []
