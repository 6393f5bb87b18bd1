"""URLs of the assistant API, mounted under /api/v1/assistant/."""

from django.urls import path  # noqa: F401

app_name = "assistant"

urlpatterns: list = []
