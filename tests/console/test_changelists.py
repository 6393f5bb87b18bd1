"""Every model of our apps is in the admin, and a changelist costs the same queries at any size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from djstripe.models import WebhookEventTrigger
from rest_framework_simplejwt.tokens import RefreshToken

from console.models import TaskFailure
from notifications.models import Notification
from tests.console.conftest import admin_url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
OUR_APPS = ["core", "accounts", "notifications", "billing", "projects", "assistant", "console"]


def test_every_model_of_our_apps_is_registered_usefully() -> None:
    for label in OUR_APPS:
        for model in apps.get_app_config(label).get_models():
            if not model._meta.managed:
                continue
            assert admin.site.is_registered(model), model
            model_admin = admin.site._registry[model]
            assert model_admin.list_display != ("__str__",), model
            assert model_admin.search_fields, model
            assert model_admin.list_filter, model


def _notification(i: int) -> None:
    Notification.objects.create(user=UserFactory(), category="product", title=f"News {i}")


def _user(i: int) -> None:
    RefreshToken.for_user(UserFactory())


def _trigger(i: int) -> None:
    WebhookEventTrigger.objects.create(remote_ip="127.0.0.1", headers={}, body="{}", exception="x" if i % 2 else "")


def _failure(i: int) -> None:
    TaskFailure.objects.create(task=f"jobs.task_{i % 3}", error="boom")


CASES: list[tuple[str, Callable[[int], Any]]] = [
    ("accounts_user_changelist", _user),
    ("notifications_notification_changelist", _notification),
    ("djstripe_webhookeventtrigger_changelist", _trigger),
    ("console_taskfailure_changelist", _failure),
]


@pytest.mark.parametrize(("url_name", "make"), CASES, ids=[c[0] for c in CASES])
def test_changelist_queries_do_not_grow_with_rows(root_client, django_assert_max_num_queries, url_name, make) -> None:
    for i in range(3):
        make(i)
    url = admin_url(url_name)
    assert root_client.get(url).status_code == 200
    with django_assert_max_num_queries(50) as few:
        assert root_client.get(url).status_code == 200
    for i in range(3, 45):
        make(i)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = root_client.get(url)
    assert response.status_code == 200
    table = response.content.decode().split('id="result_list"')[1].split("</table>")[0]
    assert table.count("<tr") - 1 == 45 + (url_name == "accounts_user_changelist")  # + the staff member
