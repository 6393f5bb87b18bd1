"""Entitlements enforced where the data lives: projects and the assistant ask billing, and a
subscription (or its end) changes what they allow — with the real usage providers of those apps."""

from __future__ import annotations

import pytest

from billing import services
from billing.models import Plan
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db


def create_project(client, n):
    return client.post("/api/v1/projects/", {"name": f"Project {n}"}, format="json")


def test_projects_follow_the_plan_up_and_down_without_losing_data(auth_client, user, subscribe, fake_stripe):
    for n in range(3):
        assert create_project(auth_client, n).status_code == 201
    body = assert_api_error(create_project(auth_client, 3), 402, "plan_limit_exceeded")
    assert body["limit"] == "projects"

    sub = subscribe(user, "pro")  # Pro allows more projects
    assert Plan.objects.get(code="pro").max_projects > 4
    assert create_project(auth_client, 3).status_code == 201
    assert create_project(auth_client, 4).status_code == 201

    # The subscription ends: back on Free with 5 projects. Nothing is deleted; creation is refused
    # and the subscription endpoint reports the exceeded limit from the projects app's own count.
    fake_stripe.set_subscription(sub["id"], status="canceled")
    services.subscription_resync(subscription_id=sub["id"])
    assert_api_error(create_project(auth_client, 5), 402, "plan_limit_exceeded")
    assert auth_client.get("/api/v1/projects/").json()["count"] == 5
    summary = auth_client.get("/api/v1/billing/subscription/").json()
    assert summary["plan"]["code"] == "free"
    assert summary["limits"]["projects"] == {"limit": 3, "usage": 5, "exceeded": True}
    assert summary["exceeded_limits"] == ["projects"]


def test_the_assistant_quota_is_the_plans(auth_client, user, subscribe):
    free = auth_client.get("/api/v1/assistant/usage/").json()
    assert free["tokens_limit"] == Plan.objects.get(code="free").ai_tokens_per_month == 50_000
    subscribe(user, "team")
    team = auth_client.get("/api/v1/assistant/usage/").json()
    assert team["tokens_limit"] == Plan.objects.get(code="team").ai_tokens_per_month > 50_000
