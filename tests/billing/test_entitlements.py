"""Plans and entitlements: the catalogue, the plan of the current subscription, grace."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from assistant.models import MonthlyUsage
from assistant.quotas import current_month
from billing import services
from billing.entitlements import FREE
from billing.models import Plan
from billing.selectors import entitlements_for_user
from core.context import request_id_var
from tests.projects.factories import FileFactory, ProjectFactory
from tests.security.route_matrix import covers_route
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db


def test_data_migration_creates_free_pro_team():
    plans = {p.code: p for p in Plan.objects.all()}
    assert set(plans) >= {"free", "pro", "team"}
    free = plans["free"]
    assert not free.is_paid and free.stripe_price_lookup_key == ""
    assert (free.max_projects, free.max_members_per_project) == (3, 3)
    assert free.max_file_size_bytes == 10 * 1024 * 1024 and free.max_storage_bytes == 100 * 1024 * 1024
    assert free.ai_tokens_per_month == 50_000
    assert plans["pro"].stripe_price_lookup_key and plans["team"].stripe_price_lookup_key
    assert plans["team"].max_projects > plans["pro"].max_projects > free.max_projects


@covers_route("billing:plans", "anonymous", methods=("get",))
def test_plans_endpoint_is_public_with_limits_and_prices(api_client, fake_stripe, prices):
    # Prices are shown once mirrored (checkout or billing_sync mirror them).
    services.plan_price_id(plan=Plan.objects.get(code="pro"))
    response = api_client.get("/api/v1/billing/plans/")
    assert response.status_code == 200
    body = {p["code"]: p for p in response.json()}
    assert body["free"]["price"] is None and body["free"]["limits"]["max_projects"] == 3
    assert body["pro"]["price"] == {"id": prices["pro"]["id"], "amount": 1500, "currency": "usd", "interval": "month"}
    assert body["team"]["price"] is None  # not mirrored yet
    assert [p["code"] for p in response.json()][:3] == ["free", "pro", "team"]


def test_inactive_plans_are_not_listed(api_client):
    Plan.objects.filter(code="team").update(active=False)
    codes = [p["code"] for p in api_client.get("/api/v1/billing/plans/").json()]
    assert "team" not in codes and "pro" in codes


def test_no_subscription_is_free(user):
    ent = entitlements_for_user(user=user)
    assert ent.plan_code == "free" and ent.max_projects == 3


def test_free_limits_follow_the_catalogue(user):
    Plan.objects.filter(code="free").update(max_projects=5)
    assert entitlements_for_user(user=user).max_projects == 5


@pytest.mark.parametrize("status", ["active", "trialing"])
def test_active_or_trialing_subscription_gives_its_plan(user, subscribe, status):
    subscribe(user, "team", status=status)
    ent = entitlements_for_user(user=user)
    assert ent.plan_code == "team"
    assert ent.max_projects == Plan.objects.get(code="team").max_projects


@pytest.mark.parametrize("status", ["canceled", "incomplete", "incomplete_expired", "unpaid"])
def test_other_statuses_are_free(user, subscribe, status):
    subscribe(user, "pro", status=status)
    assert entitlements_for_user(user=user).plan_code == "free"


def test_entitlements_cost_two_queries(user, subscribe, django_assert_max_num_queries):
    subscribe(user, "pro")
    with django_assert_max_num_queries(2):
        assert entitlements_for_user(user=user).plan_code == "pro"


def test_entitlements_are_memoised_within_a_request(user, subscribe, django_assert_num_queries):
    subscribe(user, "pro")
    token = request_id_var.set("req-1")
    try:
        entitlements_for_user(user=user)
        with django_assert_num_queries(0):
            assert entitlements_for_user(user=user).plan_code == "pro"
    finally:
        request_id_var.reset(token)
    with django_assert_num_queries(2):  # outside a request: always fresh
        entitlements_for_user(user=user)


@pytest.mark.parametrize("older", [1, 21])  # sorted in Python up to 20, by the database beyond
def test_the_newest_subscription_gives_the_plan(user, subscribe, older):
    """Stored oldest first, so neither insertion nor index order puts the newest first."""
    for _ in range(older):
        subscribe(user, "pro", period_start=int(time.time()) - 40 * 86400)
    subscribe(user, "team", period_start=int(time.time()) - 86400)
    assert entitlements_for_user(user=user).plan_code == "team"


def test_other_users_subscription_does_not_count(user, other_user, subscribe):
    subscribe(other_user, "team")
    assert entitlements_for_user(user=user).plan_code == "free"


def test_past_due_keeps_the_plan_during_the_grace_period(user, subscribe, settings):
    settings.BILLING_PAST_DUE_GRACE_DAYS = 3
    start = int(time.time())
    subscribe(user, "pro", status="past_due", period_start=start)
    assert entitlements_for_user(user=user).plan_code == "pro"
    with time_machine.travel(timezone.now() + timedelta(days=2, hours=23)):
        assert entitlements_for_user(user=user).plan_code == "pro"
    with time_machine.travel(timezone.now() + timedelta(days=3, hours=1)):
        assert entitlements_for_user(user=user).plan_code == "free"


def test_subscription_endpoint_shows_grace_end(auth_client, user, subscribe, settings):
    settings.BILLING_PAST_DUE_GRACE_DAYS = 7
    subscribe(user, "pro", status="past_due")
    body = auth_client.get("/api/v1/billing/subscription/").json()
    assert body["status"] == "past_due" and body["plan"]["code"] == "pro"
    assert body["grace_period_ends_at"] is not None


def test_unknown_price_falls_back_to_free(user, fake_stripe, subscribe):
    other = fake_stripe.add_price("some_other_product")
    customer = fake_stripe.add_customer(email=user.email, metadata={"djstripe_subscriber": str(user.pk)})
    sub = fake_stripe.add_subscription(customer=customer["id"], price=other)
    services.subscription_resync(subscription_id=sub["id"])
    assert entitlements_for_user(user=user).plan_code == "free"


def test_anonymous_is_free():
    assert entitlements_for_user(user=None) == FREE


def test_subscription_endpoint_reports_usage_and_status(auth_client, user, subscribe):
    """Usage comes from the apps' own providers, counting real rows. (A downgrade's exceeded limits
    are in test_enforcement_across_apps.py, against the apps that refuse the creation.)"""
    sub = subscribe(user, "pro", trial_end=int(time.time()) + 86400, cancel_at_period_end=True)
    projects = ProjectFactory.create_batch(4, owner=user)
    FileFactory(project=projects[0], size=1024)
    MonthlyUsage.objects.create(user=user, month=current_month(), used_tokens=10)
    response = auth_client.get("/api/v1/billing/subscription/")
    assert response.status_code == 200
    body = response.json()
    assert body["plan"] == {"code": "pro", "name": "Pro"}
    assert body["status"] == "active" and body["subscription_id"] == sub["id"]
    assert body["cancel_at_period_end"] is True
    assert body["trial_end"] is not None and body["current_period_end"] is not None
    assert body["limits"]["projects"] == {"limit": 25, "usage": 4, "exceeded": False}
    assert body["limits"]["storage_bytes"]["usage"] == 1024
    assert body["limits"]["ai_tokens_month"]["usage"] == 10
    assert body["exceeded_limits"] == []


def test_subscription_endpoint_needs_authentication(api_client):
    assert_api_error(api_client.get("/api/v1/billing/subscription/"), 401, "not_authenticated")


def test_plan_catalogue_rejects_two_plans_on_one_price():
    from django.core.exceptions import ValidationError

    team = Plan.objects.get(code="team")
    team.stripe_price_lookup_key = Plan.objects.get(code="pro").stripe_price_lookup_key
    with pytest.raises(ValidationError):
        team.full_clean()
    free = Plan.objects.get(code="free")
    free.stripe_price_lookup_key = "something"
    with pytest.raises(ValidationError):
        free.full_clean()


def test_staff_edit_plan_limits_in_the_admin(admin_client, user, subscribe):
    pro = Plan.objects.get(code="pro")
    data = {f.name: getattr(pro, f.name) for f in Plan._meta.fields if f.editable and f.name != "id"}
    data.update(max_projects=42, active="on")
    response = admin_client.post(f"/admin/billing/plan/{pro.pk}/change/", data)
    assert response.status_code == 302, response.content[:500]
    subscribe(user, "pro")
    assert entitlements_for_user(user=user).max_projects == 42
