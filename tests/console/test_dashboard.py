"""The admin index is the dashboard: SVG charts drawn server-side, cards by role, CSP-clean."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.console import stripe_data
from tests.console.conftest import admin_url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _cards(html: str) -> dict[str, str]:
    return dict(
        re.findall(r'<article class="console-card[^"]*" data-metric="([a-z0-9_]+)" data-state="([a-z]+)"', html)
    )


def test_dashboard_draws_signups_and_billing_figures_for_billing_staff(billing_client) -> None:
    for days_ago in (0, 0, 3):
        UserFactory(date_joined=timezone.now() - timedelta(days=days_ago))
    stripe_data.subscription(prod=stripe_data.product("Pro"), amount=2900)
    response = billing_client.get(admin_url("index"))
    assert response.status_code == 200
    html = response.content.decode()
    cards = _cards(html)
    assert cards["signups_per_day"] == "ok"
    assert cards["active_subscriptions_by_plan"] == "ok" and cards["mrr"] == "ok"
    assert cards["ai_tokens_per_day"] == "ok" and cards["storage_used"] == "ok"
    # 30 bars for 30 days, the tallest carrying today's count (2 signups + the staff member)
    signups = html.split('data-metric="signups_per_day"')[1].split("</article>")[0]
    assert signups.count('<rect class="console-bar"') == 30
    assert 'data-value="3"' in signups
    plans = html.split('data-metric="active_subscriptions_by_plan"')[1].split("</article>")[0]
    assert ">Pro</text>" in plans and 'data-value="1"' in plans
    assert "29.00" in html.split('data-metric="mrr"')[1].split("</article>")[0]


def test_support_sees_no_revenue_figures(support_client) -> None:
    cards = _cards(support_client.get(admin_url("index")).content.decode())
    assert "signups_per_day" in cards and "failed_webhooks_24h" in cards
    assert "mrr" not in cards and "active_subscriptions_by_plan" not in cards


def test_dashboard_works_under_the_strict_csp(root_client) -> None:
    response = root_client.get(admin_url("index"))
    assert response["Content-Security-Policy"].startswith("default-src 'self'")
    html = response.content.decode()
    # no inline script or style anywhere in the page: every script has a src, no style attributes
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and " style=" not in html
    assert "/static/console/console.css" in html


def test_dashboard_query_count_does_not_grow_with_data(root_client, django_assert_max_num_queries) -> None:
    stripe_data.subscription(prod=stripe_data.product("P0"))
    root_client.get(admin_url("index"))  # warm caches (content types, sessions)
    with django_assert_max_num_queries(30) as small:
        root_client.get(admin_url("index"))
    for i in range(40):
        UserFactory(date_joined=timezone.now() - timedelta(days=i % 30))
        stripe_data.subscription(prod=stripe_data.product(f"P{i % 4}"))
    with django_assert_max_num_queries(len(small.captured_queries)):
        root_client.get(admin_url("index"))
