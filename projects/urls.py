"""URLs of the projects API, mounted under /api/v1/projects/."""

from django.urls import path  # noqa: F401

app_name = "projects"

urlpatterns: list = []
