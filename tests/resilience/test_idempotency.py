"""Idempotency-Key: a retried POST runs once and gets the first answer; misuse is a clear error."""

import json
import os
import threading
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.utils import timezone

from core.idempotency import key_hash
from core.jobs import purge_idempotency_keys
from core.models import IdempotencyRecord
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.resilience.urls import HOLDS, Hold
from tests.support import assert_api_error

pytestmark = [pytest.mark.urls("tests.resilience.urls")]

THINGS = "/api/v1/test-resilience/things/"


@pytest.fixture(autouse=True)
def _no_groups_yet(request):
    """The side effect these tests count is a Group row: start from none (the console's data
    migration creates the staff groups; they are restored by the test's rollback or flush)."""
    if "django_db" in request.keywords or "db" in request.fixturenames:
        request.getfixturevalue("db")
        Group.objects.all().delete()


def post(client, body, key=None, url=THINGS):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(url, body, format="json", **headers)


@pytest.mark.django_db
def test_repeat_returns_the_first_response_without_running_again(auth_client):
    first = post(auth_client, {"name": "alpha"}, key="key-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    second = post(auth_client, {"name": "alpha"}, key="key-1")
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert second["Location"] == first["Location"]
    # Headers of the outer middleware still apply to a replay.
    assert second["X-Request-ID"] and second["X-Content-Type-Options"] == "nosniff"
    assert Group.objects.count() == 1


@pytest.mark.django_db
def test_same_key_with_another_body_is_a_conflict(auth_client):
    post(auth_client, {"name": "alpha"}, key="key-1")
    response = post(auth_client, {"name": "beta"}, key="key-1")
    assert_api_error(response, 409, "idempotency_key_reused")
    response = post(auth_client, {"name": "alpha"}, key="key-1", url="/api/v1/test-resilience/flaky-things/")
    assert_api_error(response, 409, "idempotency_key_reused")
    assert Group.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_per_user(auth_client, other_client):
    assert post(auth_client, {"name": "alpha"}, key="shared").status_code == 201
    response = post(other_client, {"name": "alpha"}, key="shared")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Group.objects.count() == 2


@pytest.mark.django_db
def test_keys_are_case_sensitive(auth_client):
    post(auth_client, {"name": "alpha"}, key="Key-A")
    assert "Idempotent-Replayed" not in post(auth_client, {"name": "alpha"}, key="key-a")
    assert Group.objects.count() == 2


@pytest.mark.django_db
def test_without_a_key_every_post_runs(auth_client):
    post(auth_client, {"name": "alpha"})
    post(auth_client, {"name": "alpha"})
    assert Group.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "caf\u00e9"])
def test_malformed_keys_are_rejected(auth_client, key):
    response = auth_client.post(THINGS, {"name": "alpha"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert_api_error(response, 400, "invalid_idempotency_key")
    assert Group.objects.count() == 0


@pytest.mark.django_db
def test_longest_key_is_accepted(auth_client):
    key = "k" * 255
    post(auth_client, {"name": "alpha"}, key=key)
    assert post(auth_client, {"name": "alpha"}, key=key)["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_server_errors_are_not_stored_so_a_retry_runs_again(user):
    client = Client(
        raise_request_exception=False, HTTP_AUTHORIZATION=client_for(user)._credentials["HTTP_AUTHORIZATION"]
    )
    url = "/api/v1/test-resilience/flaky-things/"
    body = '{"name": "flaky-1"}'
    first = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert_api_error(first, 500, "server_error")
    assert IdempotencyRecord.objects.count() == 0
    second = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    third = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert third.status_code == 201 and third["Idempotent-Replayed"] == "true"
    assert Group.objects.filter(name="flaky-1").count() == 1


@pytest.mark.django_db
def test_client_errors_are_stored_and_replayed(auth_client):
    first = post(auth_client, {"name": ""}, key="bad-body")
    assert_api_error(first, 400, "validation_error")
    second = post(auth_client, {"name": ""}, key="bad-body")
    assert_api_error(second, 400, "validation_error")
    assert second["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_anonymous_posts_are_passed_through(api_client):
    url = "/api/v1/test-resilience/anon-things/"
    post(api_client, {"name": "alpha"}, key="anon", url=url)
    post(api_client, {"name": "alpha"}, key="anon", url=url)
    assert Group.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
def test_an_invalid_token_gets_the_views_401_and_nothing_is_recorded(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    assert_api_error(post(api_client, {"name": "alpha"}, key="k"), 401, "token_not_valid")
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
def test_other_methods_ignore_the_header(auth_client):
    response = auth_client.get("/api/v1/health/", HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_key_expires_after_24_hours_and_the_job_purges_it(auth_client):
    post(auth_client, {"name": "alpha"}, key="old")
    # Access tokens live minutes: mint a fresh one inside the travelled time.
    with time_machine.travel(timezone.now() + timedelta(hours=23)):
        assert post(client_for(auth_client.user), {"name": "alpha"}, key="old")["Idempotent-Replayed"] == "true"
        assert purge_idempotency_keys() == 0
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert purge_idempotency_keys() == 1
        client = client_for(auth_client.user)
        response = post(client, {"name": "alpha"}, key="old")
        assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Group.objects.count() == 2


def _in_progress_record(user, key, *, locked_ago):
    from core.idempotency import request_fingerprint  # noqa: F401  (the fingerprint is recomputed below)

    now = timezone.now()
    return IdempotencyRecord.objects.create(
        scope=f"user:{user.pk}",
        key=key,
        key_hash=key_hash(key),
        fingerprint="",  # filled by the caller
        method="POST",
        path=THINGS,
        created_at=now - locked_ago,
        locked_at=now - locked_ago,
        expires_at=now + timedelta(hours=24),
    )


def _fingerprint_of(client, body, key):
    """The fingerprint the middleware computes for this request (read back from a real claim)."""
    post(client, body, key=key)
    record = IdempotencyRecord.objects.get(key=key)
    fingerprint = record.fingerprint
    record.delete()
    Group.objects.all().delete()
    return fingerprint


@pytest.mark.django_db
def test_a_key_still_in_progress_is_a_409_with_retry_after(auth_client, user, settings):
    settings.IDEMPOTENCY_WAIT_SECONDS = 0
    fingerprint = _fingerprint_of(auth_client, {"name": "alpha"}, "fp")
    record = _in_progress_record(user, "busy", locked_ago=timedelta(seconds=1))
    IdempotencyRecord.objects.filter(pk=record.pk).update(fingerprint=fingerprint)
    response = post(auth_client, {"name": "alpha"}, key="busy")
    assert_api_error(response, 409, "idempotency_key_in_progress")
    assert response["Retry-After"] == "1"
    assert Group.objects.count() == 0


@pytest.mark.django_db
def test_a_claim_abandoned_by_a_dead_process_is_taken_over(auth_client, user, settings):
    fingerprint = _fingerprint_of(auth_client, {"name": "alpha"}, "fp")
    record = _in_progress_record(user, "stale", locked_ago=timedelta(seconds=settings.IDEMPOTENCY_LOCK_SECONDS + 5))
    IdempotencyRecord.objects.filter(pk=record.pk).update(fingerprint=fingerprint)
    response = post(auth_client, {"name": "alpha"}, key="stale")
    assert response.status_code == 201
    assert IdempotencyRecord.objects.get(pk=record.pk).response_status == 201
    assert Group.objects.count() == 1


# ------------------------------------------------------------------------------------------------
# Two requests with one key at the same time, on real connections (threads, committed data).
# ------------------------------------------------------------------------------------------------
def _concurrent_posts(token, key, *, waits: bool):
    """The first request is held inside the view (its key claimed, its work not done) while the
    second arrives; then the first is released. Returns both responses, first request's first."""
    hold = HOLDS[key] = Hold()
    body = json.dumps({"name": "together", "hold": key})
    results: dict[int, Any] = {}

    def worker(n: int) -> None:
        try:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
            results[n] = client.post(THINGS, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
        finally:
            connection.close()

    first, second = (threading.Thread(target=worker, args=(n,)) for n in (0, 1))
    try:
        first.start()
        assert hold.entered.wait(30), "the first request never reached the view"
        second.start()
        if waits:
            # The second waits for the first (IDEMPOTENCY_WAIT_SECONDS): let it start waiting. Should
            # a busy machine make it late, it finds the first done and replays: the same outcome.
            second.join(0.3)
        else:
            second.join(30)  # no waiting allowed: answered while the first is still held
            assert not second.is_alive()
    finally:
        hold.released.set()
        first.join(30)
        second.join(30)
        HOLDS.pop(key, None)
    return [results[0], results[1]]


@pytest.mark.slow
@pytest.mark.mysql
@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("mysql"), reason="needs MariaDB")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("wait", "expected"), [(0, {201: 1, 409: 1}), (30, {201: 2})])
def test_concurrent_requests_with_one_key_do_the_work_once(settings, wait, expected):
    from rest_framework_simplejwt.tokens import RefreshToken

    settings.IDEMPOTENCY_WAIT_SECONDS = wait
    user = UserFactory()
    token = str(RefreshToken.for_user(user).access_token)
    responses = _concurrent_posts(token, key=f"together-{wait}", waits=wait > 0)
    statuses = {}
    for response in responses:
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    assert statuses == expected, [r.content for r in responses]
    assert Group.objects.filter(name__startswith="together").count() == 1
    if wait == 0:
        conflict = next(r for r in responses if r.status_code == 409)
        assert_api_error(conflict, 409, "idempotency_key_in_progress")
    else:
        assert sorted(r.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
        assert responses[0].json() == responses[1].json()


@pytest.mark.django_db
def test_a_replay_after_the_created_object_was_deleted_is_still_the_first_answer(auth_client, user):
    """A key names one logical request. Reused after the first answer for a "new" one, it gets the
    first answer again — here a 201 for a conversation deleted since — and nothing is created.
    (The full fuzz run met this as "created resource not found": hypothesis replays a scenario with
    the same drawn key; tests/fuzz/schemathesis_hooks.py gives each of its requests a fresh key.)"""
    from assistant.models import Conversation

    url = "/api/v1/assistant/conversations/"
    first = post(auth_client, {"title": "Plan"}, key="conversation-1", url=url)
    assert first.status_code == 201
    assert auth_client.delete(f"{url}{first.json()['id']}/").status_code == 204
    again = post(auth_client, {"title": "Plan"}, key="conversation-1", url=url)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert not Conversation.objects.filter(user=user).exists()
    fresh = post(auth_client, {"title": "Plan"}, key="conversation-2", url=url)
    assert fresh.status_code == 201 and fresh.json()["id"] != first.json()["id"]
