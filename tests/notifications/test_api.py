"""The inbox API: list (filters, pagination, constant queries), unread count (one query), read,
read-all, delete, and another user's ids answered 404."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from tests.nothing_changed import nothing_changed
from tests.notifications.factories import NotificationFactory
from tests.security.route_matrix import covers_route
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db
LIST = reverse("notifications:list")
COUNT = reverse("notifications:unread-count")
READ_ALL = reverse("notifications:read-all")


def read_url(pk) -> str:
    return reverse("notifications:read", kwargs={"pk": pk})


def detail_url(pk) -> str:
    return reverse("notifications:detail", kwargs={"pk": pk})


def test_list_newest_first_with_filters(auth_client, user, other_user):
    start = timezone.now() - timedelta(hours=5)
    for hours, category, read in [
        (0, "project", False),
        (1, "billing", True),
        (2, "project", True),
        (3, "security", False),
    ]:
        with time_machine.travel(start + timedelta(hours=hours), tick=False):
            NotificationFactory(
                user=user, category=category, title=f"n{hours}", read_at=timezone.now() if read else None
            )
    NotificationFactory(user=other_user, title="not mine")

    body = auth_client.get(LIST).json()
    assert body["count"] == 4
    assert [n["title"] for n in body["results"]] == ["n3", "n2", "n1", "n0"]
    first = body["results"][0]
    assert set(first) == {"id", "category", "title", "body", "link", "data", "is_read", "read_at", "created_at"}

    assert [n["title"] for n in auth_client.get(LIST, {"unread": "true"}).json()["results"]] == ["n3", "n0"]
    assert [n["title"] for n in auth_client.get(LIST, {"unread": "false"}).json()["results"]] == ["n2", "n1"]
    assert [n["title"] for n in auth_client.get(LIST, {"category": "project"}).json()["results"]] == ["n2", "n0"]
    assert [n["title"] for n in auth_client.get(LIST, {"category": "project", "unread": "true"}).json()["results"]] == [
        "n0"
    ]


def test_list_rejects_bad_filters(auth_client):
    assert (
        "category" in assert_api_error(auth_client.get(LIST, {"category": "nope"}), 400, "validation_error")["fields"]
    )
    assert "unread" in assert_api_error(auth_client.get(LIST, {"unread": "maybe"}), 400, "validation_error")["fields"]


def test_list_is_paginated(auth_client, user):
    NotificationFactory.create_batch(25, user=user)
    body = auth_client.get(LIST).json()
    assert body["count"] == 25 and len(body["results"]) == 20 and body["next"]
    body = auth_client.get(LIST, {"limit": 10, "offset": 20}).json()
    assert len(body["results"]) == 5 and body["next"] is None


@pytest.mark.parametrize("page_size", [1, 50])
def test_list_runs_constant_queries(auth_client, user, django_assert_num_queries, page_size):
    NotificationFactory.create_batch(60, user=user)
    # JWT user lookup + COUNT + page
    with django_assert_num_queries(3):
        response = auth_client.get(LIST, {"limit": page_size, "unread": "true"})
    assert len(response.json()["results"]) == page_size


@covers_route("notifications:unread-count", "other_tenant", methods=("get",))
def test_unread_count_is_one_query(auth_client, user, other_user, django_assert_num_queries):
    NotificationFactory.create_batch(3, user=user)
    NotificationFactory(user=user, read_at=timezone.now())
    NotificationFactory.create_batch(2, user=other_user)
    # JWT user lookup + one COUNT
    with django_assert_num_queries(2) as captured:
        response = auth_client.get(COUNT)
    assert response.json() == {"count": 3}
    count_sql = captured.captured_queries[-1]["sql"]
    assert "COUNT(*)" in count_sql and "read_at" in count_sql


def test_mark_one_read(auth_client, user):
    notification = NotificationFactory(user=user)
    response = auth_client.post(read_url(notification.pk))
    assert response.status_code == 200
    assert response.json()["is_read"] is True and response.json()["read_at"]
    first_read_at = Notification.objects.get(pk=notification.pk).read_at
    assert auth_client.post(read_url(notification.pk)).status_code == 200  # idempotent
    assert Notification.objects.get(pk=notification.pk).read_at == first_read_at
    assert auth_client.get(COUNT).json() == {"count": 0}


@covers_route("notifications:read-all", "other_tenant", methods=("post",))
def test_read_all_optionally_by_category(auth_client, user, other_user):
    NotificationFactory.create_batch(2, user=user, category="project")
    NotificationFactory(user=user, category="billing")
    theirs = NotificationFactory(user=other_user)

    assert auth_client.post(READ_ALL, {"category": "project"}, format="json").json() == {"updated": 2}
    assert auth_client.get(COUNT).json() == {"count": 1}
    assert auth_client.post(READ_ALL, {}, format="json").json() == {"updated": 1}
    assert auth_client.get(COUNT).json() == {"count": 0}
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert_api_error(auth_client.post(READ_ALL, {"category": "nope"}, format="json"), 400, "validation_error")


def test_delete(auth_client, user):
    notification = NotificationFactory(user=user)
    assert auth_client.delete(detail_url(notification.pk)).status_code == 204
    assert not Notification.objects.filter(pk=notification.pk).exists()
    assert_api_error(auth_client.delete(detail_url(notification.pk)), 404, "not_found")


@covers_route("notifications:read", "other_tenant", methods=("post",))
@covers_route("notifications:detail", "other_tenant", methods=("delete",))
@covers_route("notifications:list", "other_tenant", methods=("get",))
def test_another_users_ids_are_404(auth_client, other_user):
    theirs = NotificationFactory(user=other_user)
    with nothing_changed():
        assert_api_error(auth_client.post(read_url(theirs.pk)), 404, "not_found")
        assert_api_error(auth_client.delete(detail_url(theirs.pk)), 404, "not_found")
        assert_api_error(auth_client.post(read_url(uuid.uuid4())), 404, "not_found")
    assert auth_client.get(LIST).json()["count"] == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_every_endpoint_requires_login(api_client, user):
    notification = NotificationFactory(user=user)
    for method, path in [
        ("get", LIST),
        ("get", COUNT),
        ("post", READ_ALL),
        ("post", read_url(notification.pk)),
        ("delete", detail_url(notification.pk)),
    ]:
        assert_api_error(getattr(api_client, method)(path), 401, "not_authenticated")
