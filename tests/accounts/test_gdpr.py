"""me/export/ and DELETE me/: the registry cascade, all-or-nothing erasure, after-commit effects."""

import hashlib

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import services
from accounts.gdpr import erased_email_digest
from accounts.models import AuthEvent, User
from console.models import TaskFailure
from core import registry
from notifications.models import EmailDelivery
from notifications.services import notify
from tests.conftest import client_for
from tests.security.route_matrix import covers_route
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"
EXPORT = "/api/v1/auth/me/export/"
LOGIN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"


@pytest.fixture
def test_app(monkeypatch):
    """A stand-in for another app: an exporter, and an eraser that deletes the user's stored file
    after commit (as projects does with storage objects)."""
    calls = []

    def exporter(user):
        return {"files": [f"{user.pk}/notes.txt"], "owner": user.email}

    def eraser(user):
        calls.append(("erase", user.pk, transaction.get_connection().in_atomic_block))
        path = f"{user.pk}/notes.txt"
        transaction.on_commit(lambda: default_storage.delete(path))

    monkeypatch.setitem(registry._exporters, "test_app", exporter)
    monkeypatch.setitem(registry._erasers, "test_app", eraser)
    return calls


def test_export_contains_profile_auth_events_and_every_registered_section(auth_client, user, test_app, api_client):
    api_client.post(LOGIN, {"email": user.email, "password": "wrong-password"}, format="json")
    response = auth_client.get(EXPORT)
    assert response.status_code == 200
    data = response.json()
    assert {"exported_at", "profile", "auth_events", "test_app"} <= set(data)
    assert data["profile"]["id"] == str(user.pk) and data["profile"]["email"] == user.email
    assert "password" not in data["profile"]
    assert [e["type"] for e in data["auth_events"]] == ["login_failed"]
    assert data["test_app"] == {"files": [f"{user.pk}/notes.txt"], "owner": user.email}
    assert "password" not in response.content.decode().lower().replace("password_", "")


@covers_route("accounts:me-export", "other_tenant", methods=("get",))
def test_export_is_only_the_requesters(auth_client, other_user):
    services.auth_event_log(type="login_failed", user=other_user)
    data = auth_client.get(EXPORT).json()
    assert other_user.email not in str(data)


def test_export_requires_authentication(api_client):
    assert_api_error(api_client.get(EXPORT), 401, "not_authenticated")


def test_delete_me_erases_through_every_eraser(call, api_client, user, other_user, password, test_app):
    default_storage.save(f"{user.pk}/notes.txt", ContentFile(b"mine"))
    default_storage.save(f"{other_user.pk}/notes.txt", ContentFile(b"theirs"))
    session = api_client.post(LOGIN, {"email": user.email, "password": password}, format="json").json()
    notify(user=user, category="project", title="hello")
    notify(user=other_user, category="project", title="hello")
    user_id, email = user.pk, user.email
    client = client_for(user)

    response = call(client, "delete", ME, {"password": password})
    assert response.status_code == 204

    assert not User.objects.filter(pk=user_id).exists()
    assert test_app == [("erase", user_id, True)]  # inside the erasure transaction
    assert not default_storage.exists(f"{user_id}/notes.txt")  # storage object gone after commit
    assert default_storage.exists(f"{other_user.pk}/notes.txt")
    assert other_user.notifications.count() == 1
    # tokens: the refresh token is blacklisted, the access token no longer authenticates
    assert_api_error(api_client.post(REFRESH, {"refresh": session["refresh"]}, format="json"), 401, "token_not_valid")
    assert not OutstandingToken.objects.filter(user_id=user_id).exists()  # each token names the user id
    assert not OutstandingToken.objects.filter(user__isnull=True).exists()
    assert_api_error(client.get(ME), 401, "user_not_found")
    # the log keeps only an anonymous deletion record
    assert not AuthEvent.objects.filter(email=email).exists()
    event = AuthEvent.objects.get(type="account_deleted")
    assert event.user is None and event.email == ""
    # no id and no plain hash of the address: a keyed HMAC (an unsalted sha256 of a guessable
    # address is reversed by hashing a list of addresses)
    assert "user_id" not in event.data and str(user_id) not in str(event.data)
    assert hashlib.sha256(email.encode()).hexdigest() not in str(event.data)
    assert event.data["email_hmac"] == erased_email_digest(email) == erased_email_digest(email.upper())
    assert {"accounts", "test_app"} <= set(event.data["erasers"]) and event.data["by"] == "self"
    assert [m.to for m in mail.outbox] == [[email]] and "deleted" in mail.outbox[0].subject
    assert not EmailDelivery.objects.filter(to_email=email).exists()  # the goodbye's row went once sent


def test_delete_me_with_wrong_password_keeps_everything(call, auth_client, user, test_app):
    body = assert_api_error(call(auth_client, "delete", ME, {"password": "nope"}), 400, "wrong_password")
    assert "password" in body["fields"]
    assert User.objects.filter(pk=user.pk).exists() and test_app == []
    assert_api_error(call(auth_client, "delete", ME, {}), 400, "validation_error")


def test_a_failing_eraser_rolls_the_whole_erasure_back(
    call, api_client, user, password, monkeypatch, test_app, django_capture_on_commit_callbacks
):
    default_storage.save(f"{user.pk}/notes.txt", ContentFile(b"mine"))
    session = api_client.post(LOGIN, {"email": user.email, "password": password}, format="json").json()

    def broken(u):
        raise RuntimeError("billing is down")

    monkeypatch.setitem(registry._erasers, "zz_broken", broken)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.user_erase(user)
    assert callbacks == []
    assert User.objects.filter(pk=user.pk).exists()
    assert default_storage.exists(f"{user.pk}/notes.txt")
    assert api_client.post(REFRESH, {"refresh": session["refresh"]}, format="json").status_code == 200
    assert not AuthEvent.objects.filter(type="account_deleted").exists()
    assert mail.outbox == []


def test_erasure_runs_every_registered_eraser(user, monkeypatch):
    seen = []
    monkeypatch.setitem(registry._erasers, "one", lambda u: seen.append("one"))
    monkeypatch.setitem(registry._erasers, "two", lambda u: seen.append("two"))
    services.user_erase(user)
    assert seen == ["one", "two"]


def test_accounts_registers_its_own_parts():
    assert {"profile", "auth_events", "sessions"} <= set(registry.exporters())
    assert "accounts" in registry.erasers()


def test_every_app_registers_an_exporter_and_an_eraser_from_its_gdpr_module():
    """One place per app (``<app>/gdpr.py``), one name for the functions (``export_*``/``erase_user``)."""
    apps = ("core", "accounts", "notifications", "billing", "projects", "assistant", "console")
    erasers = {name: fn.__module__ for name, fn in registry.erasers().items()}
    assert erasers == {app: f"{app}.gdpr" for app in apps}
    assert all(fn.__name__ == "erase_user" for fn in registry.erasers().values())
    # console only redacts operations records (nothing of the user's to export); every other app exports
    assert {fn.__module__ for fn in registry.exporters().values()} == set(erasers.values()) - {"console.gdpr"}


def test_task_failures_keep_the_failure_not_the_person(user):
    failure = TaskFailure.objects.create(
        task="notifications.send",
        error=f"recipient refused: {user.email.upper()}",
        traceback=f"... user {user.pk.hex} ...",
        context={"args": [str(user.pk)], "kwargs": {}},
    )
    other = TaskFailure.objects.create(task="x", error="timeout", context={"args": ["someone-else"]})
    services.user_erase(user)
    failure.refresh_from_db()
    assert failure.error == "recipient refused: [erased]" and failure.context == {"args": ["[erased]"], "kwargs": {}}
    assert user.pk.hex not in failure.traceback
    other.refresh_from_db()
    assert other.context == {"args": ["someone-else"]}


def test_erasing_a_staff_account_ends_its_admin_sessions(client):
    staff = User.objects.create_user("staffer@example.com", "pw-0123456789", is_staff=True)
    client.force_login(staff)
    assert any(s.get_decoded().get("_auth_user_id") == str(staff.pk) for s in Session.objects.all())
    services.user_erase(staff)
    assert not any(s.get_decoded().get("_auth_user_id") == str(staff.pk) for s in Session.objects.all())


def test_the_erased_address_hmac_is_keyed(settings):
    first = erased_email_digest("someone@example.com")
    settings.ACCOUNTS_ERASURE_HMAC_KEY = "another-key-0123456789"
    assert erased_email_digest("someone@example.com") != first
