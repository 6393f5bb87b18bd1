"""Admin: user search/filters, actions (deactivate, revoke, erase with confirmation), event log read-only."""

import pytest
from django.test import Client
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services
from accounts.models import AuthEvent, User
from core import registry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/user/"


@pytest.fixture
def staff_client():
    staff = User.objects.create_superuser(email="boss@example.com", password="x", name="Boss")
    client = Client()
    client.force_login(staff)
    client.staff = staff
    return client


def test_user_changelist_search_and_filters(staff_client, user, other_user):
    response = staff_client.get(CHANGELIST, {"q": user.email})
    assert response.status_code == 200
    content = response.content.decode()
    assert user.email in content and other_user.email not in content
    inactive, unverified = UserFactory(is_active=False), UserFactory(email_verified=False)

    def listed(params):
        response = staff_client.get(CHANGELIST, params)
        assert response.status_code == 200
        return {row.email for row in response.context["cl"].queryset}

    everyone = {user.email, other_user.email, inactive.email, unverified.email, staff_client.staff.email}
    assert listed({}) == everyone
    assert listed({"is_active__exact": "1"}) == everyone - {inactive.email}
    assert listed({"email_verified__exact": "0"}) == {unverified.email}
    assert listed({"is_staff__exact": "1"}) == {staff_client.staff.email}
    assert staff_client.get(f"{CHANGELIST}{user.pk}/change/").status_code == 200
    assert staff_client.get(f"{CHANGELIST}add/").status_code == 200


def test_admin_can_add_a_user(staff_client):
    response = staff_client.post(
        f"{CHANGELIST}add/",
        {
            "email": "Added@Example.com",
            "name": "Added",
            "password1": "Zebra-Quartz-17-Lamp",
            "password2": "Zebra-Quartz-17-Lamp",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.filter(email="added@example.com").exists()


def test_deactivate_action(staff_client, user):
    token = RefreshToken.for_user(user)
    response = staff_client.post(CHANGELIST, {"action": "deactivate", "_selected_action": [str(user.pk)]})
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    assert OutstandingToken.objects.get(jti=token["jti"]).blacklistedtoken
    event = AuthEvent.objects.get(type="deactivated", user=user)
    assert event.data["by"] == str(staff_client.staff.pk)


def test_revoke_sessions_action(staff_client, user):
    RefreshToken.for_user(user)
    RefreshToken.for_user(user)
    staff_client.post(CHANGELIST, {"action": "revoke_sessions", "_selected_action": [str(user.pk)]})
    assert OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).count() == 0
    assert user.is_active


def test_erase_action_asks_first_then_uses_the_erasure_service(staff_client, user, monkeypatch):
    erased = []
    monkeypatch.setitem(registry._erasers, "test_app", lambda u: erased.append(u.pk))
    confirm = staff_client.post(CHANGELIST, {"action": "erase", "_selected_action": [str(user.pk)]})
    assert confirm.status_code == 200
    assert user.email in confirm.content.decode() and "cannot be undone" in confirm.content.decode()
    assert User.objects.filter(pk=user.pk).exists()

    done = staff_client.post(CHANGELIST, {"action": "erase", "_selected_action": [str(user.pk)], "post": "yes"})
    assert done.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert erased == [user.pk]
    event = AuthEvent.objects.get(type="account_deleted")
    assert event.data["by"] == f"staff:{staff_client.staff.pk}"


def test_staff_cannot_erase_themselves_by_action(staff_client):
    staff_client.post(CHANGELIST, {"action": "erase", "_selected_action": [str(staff_client.staff.pk)], "post": "yes"})
    assert User.objects.filter(pk=staff_client.staff.pk).exists()


def test_delete_button_erases_too(staff_client, monkeypatch):
    victim = UserFactory()
    erased = []
    monkeypatch.setitem(registry._erasers, "test_app", lambda u: erased.append(u.pk))
    response = staff_client.post(f"{CHANGELIST}{victim.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert erased == [victim.pk] and not User.objects.filter(pk=victim.pk).exists()


def test_bulk_delete_action_is_gone(staff_client):
    response = staff_client.get(CHANGELIST)
    assert "delete_selected" not in response.content.decode()


def test_auth_event_log_is_read_only(staff_client, user):
    event = services.auth_event_log(type="login_failed", user=user, email=user.email)
    listing = staff_client.get("/admin/accounts/authevent/", {"q": user.email})
    assert listing.status_code == 200 and "login_failed" in listing.content.decode().replace(
        "Login failed", "login_failed"
    )
    assert staff_client.get(f"/admin/accounts/authevent/{event.pk}/change/").status_code == 200
    assert staff_client.get("/admin/accounts/authevent/add/").status_code == 403
    staff_client.post(f"/admin/accounts/authevent/{event.pk}/delete/", {"post": "yes"})
    assert AuthEvent.objects.filter(pk=event.pk).exists()
