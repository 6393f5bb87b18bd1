"""Idempotency replays answer only to who is asking now: a deactivated or erased user's token does not
replay a stored answer, and the auth routes (token, refresh) are never replayed."""

from __future__ import annotations

import pytest

from core.models import IdempotencyRecord
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROJECTS = "/api/v1/projects/"


def create(client, key="retry-1"):
    return client.post(PROJECTS, {"name": "Apollo"}, HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.parametrize("how", ["deactivated", "erased"])
def test_a_stored_answer_is_not_replayed_to_a_user_who_can_no_longer_authenticate(how):
    user = UserFactory()
    client = client_for(user)
    assert create(client).status_code == 201
    if how == "deactivated":
        user.is_active = False
        user.save(update_fields=["is_active"])
    else:
        user.delete()
    replay = create(client)
    assert replay.status_code == 401, replay.content
    assert "Idempotent-Replayed" not in replay


def test_token_refresh_is_never_replayed(api_client, user, password):
    pair = api_client.post("/api/v1/auth/token/", {"email": user.email, "password": password}).json()
    client = client_for(user)  # a valid access token: the scope the middleware would key on
    body = {"refresh": pair["refresh"]}
    first = client.post("/api/v1/auth/token/refresh/", body, HTTP_IDEMPOTENCY_KEY="refresh-1")
    assert first.status_code == 200, first.content
    again = client.post("/api/v1/auth/token/refresh/", body, HTTP_IDEMPOTENCY_KEY="refresh-1")
    assert "Idempotent-Replayed" not in again
    assert again.status_code == 401  # the rotated-out refresh token is blacklisted
    assert not IdempotencyRecord.objects.filter(path__startswith="/api/v1/auth/").exists()
