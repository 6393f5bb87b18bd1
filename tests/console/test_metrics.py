"""Dashboard figures: signups, subscriptions by plan, MRR (billing's selectors), failed webhooks and tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from djstripe.models import WebhookEventTrigger

from billing import selectors as billing_selectors
from console import metrics
from console.models import TaskFailure
from console.services import task_failure_record
from tests.console import stripe_data
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 31, 15, 0, tzinfo=UTC)


def test_signups_per_day_counts_each_utc_day_and_fills_gaps() -> None:
    for days_ago, n in [(0, 2), (1, 1), (29, 3), (30, 5)]:
        for _ in range(n):
            UserFactory(date_joined=NOW - timedelta(days=days_ago, hours=1))
    series = metrics.signups_per_day(now=NOW)
    assert len(series) == 30
    assert series[0] == (NOW.date() - timedelta(days=29), 3)  # 30 days ago is outside the window
    assert series[-1] == (NOW.date(), 2)
    assert series[-2] == (NOW.date() - timedelta(days=1), 1)
    assert sum(v for _, v in series) == 6


def test_active_subscriptions_by_plan_and_mrr() -> None:
    pro, team = stripe_data.product("Pro"), stripe_data.product("Team")
    stripe_data.subscription(prod=pro, amount=1500)
    stripe_data.subscription(prod=pro, amount=1500, status="trialing")
    stripe_data.subscription(prod=team, amount=12000, interval="year", quantity=3)
    stripe_data.subscription(prod=pro, amount=1500, status="canceled")
    stripe_data.subscription(amount=1000, currency="eur", nickname="Legacy", interval="week")
    assert billing_selectors.active_subscriptions_by_plan() == [("Pro", 2), ("Legacy", 1), ("Team", 1)]
    mrr = dict(billing_selectors.monthly_recurring_revenue())
    # 2 × 15.00 monthly + 3 × 120.00 yearly / 12
    assert mrr["USD"] == Decimal("60.00")
    assert mrr["EUR"] == (Decimal(10) * Decimal(52) / Decimal(12)).quantize(Decimal("0.01"))


def test_subscription_figures_take_constant_queries(django_assert_max_num_queries) -> None:
    products = [stripe_data.product(f"Plan {i}") for i in range(5)]
    for i in range(30):
        stripe_data.subscription(prod=products[i % 5])
    with django_assert_max_num_queries(2):
        billing_selectors.active_subscriptions_by_plan()
    with django_assert_max_num_queries(2):
        billing_selectors.monthly_recurring_revenue()


def _trigger(**fields) -> WebhookEventTrigger:
    return WebhookEventTrigger.objects.create(remote_ip="127.0.0.1", headers={}, body="{}", **fields)


def test_failed_webhooks_in_the_last_24_hours() -> None:
    _trigger(valid=True, processed=True)
    _trigger(valid=True, processed=False, exception="boom")
    _trigger(valid=False)
    old = _trigger(valid=True, processed=False)
    WebhookEventTrigger.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(hours=25))
    assert metrics.failed_webhooks_24h() == 2


def test_failed_tasks_sum_recorded_failures_and_every_source() -> None:
    from billing.models import StripeErasure
    from notifications.models import EmailDelivery

    task_failure_record(task="billing.jobs.sync_stripe", error=RuntimeError("stripe down"))
    old = task_failure_record(task="x", error="old")
    TaskFailure.objects.filter(pk=old.pk).update(occurred_at=timezone.now() - timedelta(days=2))
    _trigger(valid=True, processed=False, exception="boom")
    StripeErasure.objects.create(customer_id="cus_failing", last_error="stripe down")
    StripeErasure.objects.create(customer_id="cus_pending")

    for key, status in (("a", "failed"), ("b", "sent")):
        EmailDelivery.objects.create(
            idempotency_key=key, kind="transactional", template="t", to_email="a@example.com", subject="s",
            text_body="", html_body="", status=status,
        )  # fmt: skip
    rows = dict(metrics.failed_tasks_24h())
    assert rows == {"recorded tasks": 1, "stripe webhooks": 1, "email deliveries": 1, "stripe erasures": 1}
    recorded = TaskFailure.objects.get(task="billing.jobs.sync_stripe")
    assert recorded.error == "RuntimeError: stripe down"


def test_a_failing_celery_task_is_recorded() -> None:
    from stackpro.celery import app

    @app.task(name="tests.console.explode")
    def explode() -> None:
        raise ValueError("kaboom")

    # A worker runs tasks through the same tracer as apply() without propagation (eager mode with
    # CELERY_TASK_EAGER_PROPAGATES re-raises before Celery sends task_failure).
    result = explode.apply(throw=False)
    assert result.failed()
    failure = TaskFailure.objects.get(task="tests.console.explode")
    assert "kaboom" in failure.error and "ValueError" in failure.traceback


def test_a_failing_figure_is_isolated_and_the_others_computed(monkeypatch, superuser) -> None:
    broken = metrics.Metric("broken", lambda: 1 / 0, "Broken")
    monkeypatch.setattr(metrics, "METRICS", (*metrics.METRICS, broken))
    cards = {c.name: c for c in metrics.dashboard_for(superuser)}
    assert cards["broken"].state == "error"
    assert cards["ai_tokens_per_day"].state == "ok" and cards["ai_tokens_per_day"].chart["type"] == "line"
    assert [c for c in cards.values() if c.state != "ok"] == [cards["broken"]]


def test_ai_tokens_and_cost_per_day_from_assistant_replies() -> None:
    from assistant.models import Conversation, Message

    user = UserFactory()
    conversation = Conversation.objects.create(user=user)
    for days_ago, tokens, cost in [(0, 1000, "0.0150"), (0, 500, "0.0075"), (2, 40, "0.0006"), (31, 9999, "1")]:
        Message.objects.create(
            conversation=conversation, role="assistant", content="hi", input_tokens=tokens // 2,
            output_tokens=tokens // 2, cost_usd=Decimal(cost), created_at=NOW - timedelta(days=days_ago),
        )  # fmt: skip
    Message.objects.create(conversation=conversation, role="user", content="q", input_tokens=77, created_at=NOW)
    tokens = metrics.ai_tokens_per_day(now=NOW)
    cost = metrics.ai_cost_per_day(now=NOW)
    assert len(tokens) == 30 and tokens[-1] == (NOW.date(), 1500) and tokens[-3] == (NOW.date() - timedelta(days=2), 40)
    assert sum(v for _, v in tokens) == 1540
    assert cost[-1] == (NOW.date(), Decimal("0.0225")) and sum(v for _, v in cost) == Decimal("0.0231")


def test_storage_used_counts_ready_files() -> None:
    from projects.models import File, Project

    owner = UserFactory()
    project = Project.objects.create(owner=owner, name="Apollo")
    for i, (size, status) in enumerate([(1000, "ready"), (2500, "ready"), (99999, "pending")]):
        File.objects.create(project=project, name=f"f{i}", size=size, key=f"projects/x/{i}", status=status)
    assert metrics.storage_used() == 3500
