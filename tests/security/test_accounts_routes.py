"""Accounts' "other tenant" cases: /auth/me/ and /auth/password/change/ take no id, so the account is
always the token's user: ids, emails or passwords of another user in the body reach nobody else."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.security.route_matrix import covers_route

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"
CHANGE = "/api/v1/auth/password/change/"
NEW_PASSWORD = "Zebra-Quartz-17-Lamp"


@covers_route("accounts:me", "other_tenant", methods=("get", "patch", "delete"))
def test_me_reads_changes_and_deletes_only_the_callers_account(auth_client, user, other_user, password, settings):
    settings.ACCOUNTS_MIN_RESPONSE_SECONDS = 0
    other_before = User.objects.values().get(pk=other_user.pk)

    body = auth_client.get(ME, {"id": other_user.pk}).json()
    assert body["id"] == str(user.pk) and other_user.email not in str(body)

    response = auth_client.patch(ME, {"id": str(other_user.pk), "user_id": str(other_user.pk), "name": "Renamed"})
    assert response.status_code == 200 and response.json()["id"] == str(user.pk)
    user.refresh_from_db()
    assert user.name == "Renamed"

    # Both share the factory password: deleting "me" with it deletes the caller, never the other.
    response = auth_client.delete(ME, {"password": password, "id": str(other_user.pk)}, format="json")
    assert response.status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()
    assert User.objects.values().get(pk=other_user.pk) == other_before


@covers_route("accounts:password-change", "other_tenant", methods=("post",))
def test_password_change_changes_only_the_callers_password(auth_client, user, other_user, password):
    response = auth_client.post(
        CHANGE,
        {
            "old_password": password,
            "new_password": NEW_PASSWORD,
            "user_id": str(other_user.pk),
            "email": other_user.email,
        },
        format="json",
    )
    assert response.status_code == 204
    user.refresh_from_db()
    other_user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert other_user.check_password(password) and not other_user.check_password(NEW_PASSWORD)
