"""API5 Broken function level authorization: the only staff functions are the Django admin's; a
signed-in user who is not staff reaches none of them, and no API view is staff-only in disguise."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.permissions import IsAdminUser

from tests.security.route_matrix import walk_routes


@pytest.mark.django_db
def test_a_signed_in_user_who_is_not_staff_gets_no_admin_page(user):
    client = Client()
    client.force_login(user)
    for path in ("", "accounts/user/", f"accounts/user/{user.pk}/change/", "billing/plan/"):
        response = client.get(f"/{settings.ADMIN_URL}{path}")
        assert response.status_code == 302, (path, response.status_code)
        assert response["Location"].startswith(f"/{settings.ADMIN_URL}login/")
    response = client.post(
        f"/{settings.ADMIN_URL}accounts/user/", {"action": "delete_selected", "_selected_action": [user.pk]}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active and not user.is_staff


def test_no_api_view_relies_on_a_staff_flag():
    """Staff powers are not mixed into the tenant API: role checks live in the services (route matrix)."""
    staff_only = [
        route.name
        for route in walk_routes()
        if route.view_class is not None and IsAdminUser in getattr(route.view_class, "permission_classes", [])
    ]
    assert staff_only == []
