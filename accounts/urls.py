"""URLs of the auth API, mounted under /api/v1/auth/."""

from django.urls import path  # noqa: F401

app_name = "accounts"

urlpatterns: list = []
