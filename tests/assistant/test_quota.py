"""Quotas: atomic reservation against the plan's monthly tokens, settle/release, 80%/100% notices,
the concurrent-send race on MariaDB, and the usage provider / GDPR registrations."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from assistant import quotas
from assistant.claude import Usage
from assistant.models import Conversation, Message, MonthlyUsage
from core import registry
from notifications.models import Notification
from tests.assistant.conftest import messages_url
from tests.assistant.factories import ConversationFactory, MessageFactory
from tests.conftest import client_for
from tests.support import assert_api_error

LIMIT = 50_000  # the Free plan's ai_tokens_per_month


def send(client, conversation, content):
    return client.post(messages_url(conversation), {"content": content}, format="json")


def statement_counts(names: tuple[str, ...]) -> dict[str, int]:
    """MariaDB's counters of the statements this connection ran (``Com_insert``...)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS WHERE Variable_name IN %s", [names])
        return {name: int(value) for name, value in cursor.fetchall()}


@pytest.mark.django_db
def test_reserve_settle_release(user):
    first = quotas.reserve(user=user, tokens=30_000)
    with pytest.raises(quotas.PlanLimitExceeded):
        quotas.reserve(user=user, tokens=30_000)  # 30k reserved + 30k > 50k
    row = MonthlyUsage.objects.get(user=user)
    assert (row.reserved_tokens, row.used_tokens) == (30_000, 0)

    quotas.settle(reservation=first, usage=Usage(1000, 200, 5000, 300), cost=Decimal("0.01"))
    row.refresh_from_db()
    # used = input + output + cache write + cache reads at a tenth
    assert (row.reserved_tokens, row.used_tokens, row.requests) == (0, 1000 + 200 + 300 + 500, 1)
    assert row.cost_usd == Decimal("0.01")

    second = quotas.reserve(user=user, tokens=30_000)
    quotas.release(second)
    row.refresh_from_db()
    assert (row.reserved_tokens, row.used_tokens, row.requests) == (0, 2000, 1)


@pytest.mark.mysql
@pytest.mark.skipif(connection.vendor != "mysql", reason="counts MariaDB's statements")
@pytest.mark.django_db(transaction=True)
def test_the_months_first_send_creates_its_row_without_a_transaction_of_its_own():
    """On every user's first send of a month: one INSERT in autocommit, not get_or_create's own
    transaction (SET autocommit=0, COMMIT, SET autocommit=1 around it). (Inside a transaction, a
    cached answer's, it is a savepoint; races: test_twenty_concurrent_sends_when_the_quota_covers_one.)"""
    from tests.factories import UserFactory

    user = UserFactory()
    names = ("Com_commit", "Com_set_option", "Com_insert")
    before = statement_counts(names)
    row = quotas.usage_row(user=user)
    after = statement_counts(names)
    assert row.pk and row.used_tokens == 0
    assert {k: after[k] - before[k] for k in before} == {"Com_commit": 0, "Com_set_option": 0, "Com_insert": 1}
    assert quotas.usage_row(user=user).pk == row.pk  # found, not created again


@pytest.mark.mysql
@pytest.mark.skipif(connection.vendor != "mysql", reason="counts MariaDB's statements")
@pytest.mark.django_db(transaction=True)
def test_a_reservation_is_one_update_and_the_months_first_inserts_the_row_with_it():
    """No read of the usage row first: the UPDATE finds it by its (user, month) key; the month's
    first send, finding none, inserts it holding the reservation. Besides the plan's two reads."""
    from tests.factories import UserFactory

    user = UserFactory()
    names = ("Com_select", "Com_insert", "Com_update", "Com_commit", "Com_set_option")
    counts = []
    for _ in range(2):
        before = statement_counts(names)
        quotas.reserve(user=user, tokens=10_000)
        after = statement_counts(names)
        counts.append({name: after[name] - before[name] for name in names})
    assert counts == [
        {"Com_select": 2, "Com_insert": 1, "Com_update": 1, "Com_commit": 0, "Com_set_option": 0},
        {"Com_select": 2, "Com_insert": 0, "Com_update": 1, "Com_commit": 0, "Com_set_option": 0},
    ]
    row = MonthlyUsage.objects.get(user=user, month=quotas.current_month())
    assert (row.reserved_tokens, row.used_tokens) == (20_000, 0)


def test_prices_and_cost():
    assert quotas.prices_for("claude-sonnet-5-5")["output"] == Decimal("10")
    assert quotas.prices_for("claude-sonnet-5-5-20261001")["input"] == Decimal("2")  # dated id: prefix
    assert quotas.prices_for("claude-sonnet-4-5-20250929")["input"] == Decimal("3")
    assert quotas.prices_for("some-future-model")["input"] == Decimal("3")  # "default"
    assert quotas.cost_usd("claude-haiku-4-5", Usage(1_000_000, 1_000_000, 1_000_000, 1_000_000)) == Decimal(
        "7.350000"
    )  # 1 + 5 + 0.10 + 1.25


@pytest.mark.django_db
def test_over_quota_is_402_and_the_message_is_not_sent(auth_client, user, conversation, fake_anthropic):
    MonthlyUsage.objects.create(user=user, month=quotas.current_month(), used_tokens=LIMIT - 500)
    body = assert_api_error(send(auth_client, conversation, "one more?"), 402, "plan_limit_exceeded")
    assert body["limit"] == "ai_tokens_month"
    assert fake_anthropic.calls == 0
    assert not conversation.messages.exists()  # a refusal, not a failure: nothing to keep
    assert MonthlyUsage.objects.get(user=user).reserved_tokens == 0


@pytest.mark.django_db
def test_a_cached_answer_is_served_even_over_quota(auth_client, user, fake_anthropic):
    send(auth_client, ConversationFactory(user=user), "cheap question")
    MonthlyUsage.objects.filter(user=user).update(used_tokens=LIMIT)
    response = send(auth_client, ConversationFactory(user=user), "cheap question")
    assert response.status_code == 201 and response.json()["cached"] is True


@pytest.mark.django_db
def test_notified_at_80_and_100_percent_once_each(auth_client, user, conversation, fake_anthropic):
    fake_anthropic.usage_override = {
        "input_tokens": 41_000,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
    }
    assert send(auth_client, conversation, "big one").status_code == 201
    notices = list(Notification.objects.filter(user=user, category="assistant").values_list("data", flat=True))
    assert notices == [{"percent": 80}]

    fake_anthropic.usage_override = {
        "input_tokens": 5_000,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
    }
    assert send(auth_client, conversation, "another").status_code == 201  # ~46k: still only the 80% notice
    assert Notification.objects.filter(user=user, category="assistant").count() == 1

    fake_anthropic.usage_override = {
        "input_tokens": 4_500,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
    }
    assert send(auth_client, conversation, "last").status_code == 201  # the reservation fitted; real use: >50k
    row = MonthlyUsage.objects.get(user=user)
    assert row.used_tokens > LIMIT
    assert_api_error(send(auth_client, conversation, "over"), 402, "plan_limit_exceeded")
    assert_api_error(send(auth_client, conversation, "over again"), 402, "plan_limit_exceeded")
    percents = sorted(
        n["percent"]
        for n in Notification.objects.filter(user=user, category="assistant").values_list("data", flat=True)
    )
    assert percents == [80, 100], (row.used_tokens, percents)
    row.refresh_from_db()
    assert row.notified_80_at and row.notified_100_at


@pytest.mark.django_db
def test_a_refusal_past_80_percent_is_the_100_percent_notice(auth_client, user, conversation, fake_anthropic, settings):
    settings.ASSISTANT_MAX_TOKENS = 8_000
    MonthlyUsage.objects.create(
        user=user, month=quotas.current_month(), used_tokens=45_000, notified_80_at="2026-01-01T00:00Z"
    )
    for _ in range(2):
        assert_api_error(send(auth_client, conversation, "long answer please"), 402, "plan_limit_exceeded")
    notices = list(Notification.objects.filter(user=user, category="assistant").values_list("data", flat=True))
    assert notices == [{"percent": 100}]


@pytest.mark.django_db
def test_no_notice_for_a_single_oversized_request_early_in_the_month(
    auth_client, user, conversation, fake_anthropic, settings
):
    settings.ASSISTANT_MAX_TOKENS = 60_000
    settings.ASSISTANT_MAX_TOKENS_CEILING = 60_000
    assert_api_error(send(auth_client, conversation, "essay please"), 402, "plan_limit_exceeded")
    assert not Notification.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_usage_endpoint_starts_at_zero_without_writing(auth_client, user):
    body = auth_client.get("/api/v1/assistant/usage/").json()
    assert body["tokens_used"] == 0 and body["tokens_limit"] == LIMIT and body["estimated_cost_usd"] == "0.000000"
    assert body["requests"] == 0 and body["cache_hits"] == 0
    assert not MonthlyUsage.objects.exists()


@pytest.mark.django_db
def test_usage_counts_only_this_month(auth_client, user):
    MonthlyUsage.objects.create(user=user, month=quotas.current_month().replace(year=2020), used_tokens=999)
    MonthlyUsage.objects.create(user=user, month=quotas.current_month(), used_tokens=1234, cost_usd=Decimal("0.5"))
    body = auth_client.get("/api/v1/assistant/usage/").json()
    assert body["tokens_used"] == 1234 and body["tokens_remaining"] == LIMIT - 1234
    assert body["estimated_cost_usd"] == "0.500000"
    assert registry.usage_providers()["ai_tokens_month"](user) == 1234


@pytest.mark.django_db
def test_export_and_erase_are_registered(user, other_user):
    conversation = ConversationFactory(user=user, title="Mine")
    MessageFactory(conversation=conversation, content="my words")
    ConversationFactory(user=other_user)
    exported = registry.exporters()["assistant"](user)
    assert exported["conversations"][0]["messages"][0]["content"] == "my words"
    registry.erasers()["assistant"](user)
    assert not Conversation.objects.filter(user=user).exists()
    assert not Message.objects.filter(conversation__user=user).exists()
    assert Conversation.objects.filter(user=other_user).count() == 1


# ------------------------------------------------------------------------------------------------
# The race: twenty concurrent sends when the quota covers one.
# ------------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_sends_when_the_quota_covers_one(user, fake_anthropic, settings):
    if connection.vendor != "mysql":
        pytest.skip("needs MariaDB/MySQL: SQLite serialises every writer, so there is no race to test")
    settings.ASSISTANT_MAX_TOKENS = 30_000  # each send reserves ~30k of the 50k: only one fits
    settings.ASSISTANT_MAX_TOKENS_CEILING = 30_000
    # The winner stays in flight until every other send has been answered (not for a fixed time, which
    # a busy machine could outlast): its reservation is what the others must meet. Time enough for that.
    settings.ANTHROPIC_TIMEOUT_SECONDS = settings.ASSISTANT_DEADLINE_SECONDS = 60
    conversation = Conversation.objects.create(user=user)
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    codes: list[str] = []
    losers_done = threading.Event()

    def reply(body):
        losers_done.wait(30)  # runs in the fake server's thread, for the one send that got through
        return "the winner's answer"

    fake_anthropic.reply = reply

    def worker(n: int) -> None:
        client = client_for(user)
        try:
            barrier.wait()
            response = send(client, conversation, f"question {n}")  # distinct: no response-cache hits
            statuses.append(response.status_code)
            codes.append(response.json().get("code", "ok"))
            if statuses.count(402) == 19:
                losers_done.set()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert losers_done.is_set(), list(
        zip(statuses, codes, strict=True)
    )  # all 19 refused while the winner was in flight
    assert sorted(statuses) == [201] + [402] * 19, list(zip(statuses, codes, strict=True))
    assert set(codes) == {"ok", "plan_limit_exceeded"}
    assert fake_anthropic.calls == 1
    row = MonthlyUsage.objects.get(user=user)
    assert row.reserved_tokens == 0 and row.requests == 1 and 0 < row.used_tokens <= LIMIT
    assert Message.objects.filter(conversation=conversation).count() == 2


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_anthropic_is_called_with_nothing_locked_and_the_reservation_committed(user, fake_anthropic):
    if connection.vendor != "mysql":
        pytest.skip("needs MariaDB/MySQL: row locks and a second connection")
    conversation = Conversation.objects.create(user=user)
    seen: list[tuple] = []

    def reply(body):
        # Runs in the fake server's thread on its own database connection, while the send waits.
        try:
            with transaction.atomic():
                row = MonthlyUsage.objects.select_for_update(nowait=True).get(user=user)  # raises if locked
                status = Message.objects.get(conversation=conversation, role="user").status
                seen.append((row.reserved_tokens, status))
        except Exception as exc:  # noqa: BLE001 — recorded, asserted below
            seen.append(("error", repr(exc)))
        finally:
            connections.close_all()
        return "done"

    fake_anthropic.reply = reply
    response = send(client_for(user), conversation, "is anything locked?")
    assert response.status_code == 201
    assert len(seen) == 1 and seen[0][0] != "error", seen
    reserved, status = seen[0]
    assert reserved > 0 and status == "pending"  # committed before the call, visible to others
    assert MonthlyUsage.objects.get(user=user).reserved_tokens == 0
