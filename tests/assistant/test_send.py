"""Sending messages through the real anthropic SDK against the fake server: replies, history,
titles, limits, and upstream failures that keep the user's message and charge nothing."""

import json
import uuid

import pytest

from assistant.models import Conversation, Message, MonthlyUsage
from assistant.prompting import BASE_PROMPT
from tests.assistant.conftest import messages_url
from tests.assistant.factories import ConversationFactory
from tests.support import assert_api_error
from tests.timing import assert_within, baseline, timed

pytestmark = pytest.mark.django_db


def send(client, conversation, content):
    return client.post(messages_url(conversation), {"content": content}, format="json")


def assert_nothing_charged(user):
    row = MonthlyUsage.objects.filter(user=user).first()
    assert row is None or (row.used_tokens, row.reserved_tokens, row.cost_usd, row.requests) == (0, 0, 0, 0)


def test_send_returns_the_reply_with_usage(auth_client, user, fake_anthropic):
    conversation = ConversationFactory(user=user, title="")
    response = send(auth_client, conversation, "How do I deploy to Lambda?")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["role"] == "assistant" and body["cached"] is False
    assert body["content"] == "Echo: How do I deploy to Lambda?"
    assert body["model"] == "claude-sonnet-5-5"
    assert set(body["usage"]) == {
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
    }
    assert body["usage"]["output_tokens"] > 0

    sent = fake_anthropic.requests[-1]
    assert "sk-ant-test-key" in (sent.headers.get("x-api-key", "") + sent.headers.get("authorization", ""))
    assert sent.body["model"] == "claude-sonnet-5-5" and sent.body["max_tokens"] == 1024
    assert sent.body["system"] == [{"type": "text", "text": BASE_PROMPT}]
    assert sent.body["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "How do I deploy to Lambda?", "cache_control": {"type": "ephemeral"}}],
        }
    ]

    conversation.refresh_from_db()
    assert conversation.title == "How do I deploy to Lambda?"
    question, answer = conversation.messages.order_by("created_at")
    assert (question.role, question.status, answer.role, answer.status) == ("user", "ok", "assistant", "ok")
    assert str(answer.pk) == body["id"] and answer.latency_ms is not None
    assert answer.output_tokens == body["usage"]["output_tokens"]


def test_a_reply_writes_its_tokens_and_cost_as_a_metric_line(auth_client, user, fake_anthropic, settings, capsys):
    """docs/serverless.md: Service ``assistant``, ``InputTokens``/``OutputTokens``/``AICostUSD`` (EMF)."""
    settings.METRICS_EMF, settings.METRICS_DETAILED = True, False
    fake_anthropic.usage_override = {
        "input_tokens": 100,
        "output_tokens": 50,
        "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 200,
    }
    assert send(auth_client, ConversationFactory(user=user), "metered").status_code == 201
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    (ai,) = [line for line in lines if line["Service"] == "assistant"]
    assert (ai["Model"], ai["InputTokens"], ai["OutputTokens"], ai["AICostUSD"]) == (
        "claude-sonnet-5-5",
        100,
        50,
        0.0013,
    )
    assert (ai["cache_read_tokens"], ai["cache_write_tokens"]) == (1000, 200)
    (block,) = ai["_aws"]["CloudWatchMetrics"]
    assert block["Dimensions"] == [["Service"]]


def test_history_is_sent_in_order_and_usage_is_metered(auth_client, user, fake_anthropic):
    conversation = ConversationFactory(user=user)
    send(auth_client, conversation, "first question")
    fake_anthropic.usage_override = {
        "input_tokens": 100,
        "output_tokens": 50,
        "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 200,
    }
    response = send(auth_client, conversation, "second question")
    assert response.status_code == 201
    assert response.json()["usage"] == {
        "input_tokens": 100,
        "output_tokens": 50,
        "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 200,
    }
    history = fake_anthropic.requests[-1].body["messages"]
    assert [
        (m["role"], m["content"] if isinstance(m["content"], str) else m["content"][0]["text"]) for m in history
    ] == [
        ("user", "first question"),
        ("assistant", "Echo: first question"),
        ("user", "second question"),
    ]
    row = MonthlyUsage.objects.get(user=user)
    assert row.reserved_tokens == 0 and row.requests == 2
    assert row.input_tokens >= 100 and row.cache_read_tokens == 1000 and row.cache_write_tokens >= 200
    assert row.used_tokens == row.input_tokens + row.output_tokens + row.cache_write_tokens + 100
    # Sonnet 5.5: $2 in, $10 out, $2.50 cache write, $0.10 cache read per million.
    second = Message.objects.filter(role="assistant").order_by("-created_at").first()
    assert str(second.cost_usd) == "0.001300"  # (100*2 + 50*10 + 200*2.5 + 1000*0.1) / 1e6

    usage = auth_client.get("/api/v1/assistant/usage/").json()
    assert usage["requests"] == 2 and usage["cache_hits"] == 0
    assert usage["tokens_limit"] == 50_000
    assert usage["tokens_used"] == row.used_tokens
    assert usage["estimated_cost_usd"] == f"{row.cost_usd:.6f}"
    assert usage["cache_read_input_tokens"] == 1000


def test_history_is_trimmed_oldest_first(auth_client, user, fake_anthropic, settings):
    settings.ASSISTANT_HISTORY_TOKEN_BUDGET = 60  # ~240 characters of turns
    conversation = ConversationFactory(user=user)
    for n in range(4):
        assert send(auth_client, conversation, f"question {n} " + "x" * 60).status_code == 201
    sent = fake_anthropic.requests[-1].body
    texts = [m["content"] if isinstance(m["content"], str) else m["content"][0]["text"] for m in sent["messages"]]
    assert texts[-1].startswith("question 3")
    assert not any(t.startswith("question 0") for t in texts)
    assert sent["messages"][0]["role"] == "user"
    assert sent["system"][0]["text"] == BASE_PROMPT  # the system context is always kept


def test_message_too_long_is_a_clear_400(auth_client, conversation, fake_anthropic, settings):
    settings.ASSISTANT_MESSAGE_MAX_CHARS = 100
    body = assert_api_error(send(auth_client, conversation, "x" * 101), 400, "message_too_long")
    assert body["max_chars"] == 100 and "content" in body["fields"]
    assert send(auth_client, conversation, "x" * 100).status_code == 201
    assert_api_error(send(auth_client, conversation, "   "), 400, "validation_error")
    assert fake_anthropic.calls == 1


def test_sends_are_rate_limited_per_user(auth_client, other_client, other_user, conversation, fake_anthropic, settings):
    settings.ASSISTANT_SEND_RATE = "2/min"
    assert send(auth_client, conversation, "one").status_code == 201
    assert send(auth_client, conversation, "two").status_code == 201
    response = send(auth_client, conversation, "three")
    assert_api_error(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
    assert send(other_client, ConversationFactory(user=other_user), "mine").status_code == 201


def test_no_api_key_is_503_with_how_to_configure(auth_client, user, conversation, settings):
    settings.ANTHROPIC_API_KEY = ""
    body = assert_api_error(send(auth_client, conversation, "hello?"), 503, "assistant_unavailable")
    assert "ANTHROPIC_API_KEY" in body["message"]
    kept = conversation.messages.get()
    assert (kept.content, kept.status, kept.error_code) == ("hello?", "failed", "assistant_unavailable")
    assert_nothing_charged(user)


@pytest.mark.slow
def test_timeout_is_504_within_the_deadline_and_charges_nothing(auth_client, user, conversation, fake_anthropic):
    # A healthy send on this machine now: the baseline of the bound (and a warm client).
    base = baseline(lambda: send(auth_client, ConversationFactory(user=user), f"baseline {uuid.uuid4()}"))
    fake_anthropic.reset()
    MonthlyUsage.objects.filter(user=user).delete()  # the baseline's sends are not under test
    fake_anthropic.mode = "hang"
    response, elapsed = timed(send, auth_client, conversation, "are you there?")
    assert_api_error(response, 504, "assistant_timeout")
    assert elapsed >= 2 * 0.5  # two attempts, each waiting out ANTHROPIC_TIMEOUT_SECONDS (the fixture's)
    assert_within(elapsed, waits=2.0, base=base)  # ASSISTANT_DEADLINE_SECONDS in the fixture
    assert fake_anthropic.calls == 2  # one bounded retry
    kept = conversation.messages.get()
    assert (kept.status, kept.error_code) == ("failed", "assistant_timeout")
    assert_nothing_charged(user)


@pytest.mark.parametrize("mode", ["500", "529"])
def test_upstream_errors_are_502_after_one_retry(auth_client, user, conversation, fake_anthropic, mode):
    fake_anthropic.mode = mode
    assert_api_error(send(auth_client, conversation, "hi"), 502, "assistant_upstream_error")
    assert fake_anthropic.calls == 2
    assert conversation.messages.get().status == "failed"
    assert_nothing_charged(user)


def test_upstream_rate_limit_is_429_with_retry_after_and_no_retry(auth_client, user, conversation, fake_anthropic):
    fake_anthropic.mode = "429"
    fake_anthropic.retry_after = "17"
    response = send(auth_client, conversation, "hi")
    assert_api_error(response, 429, "assistant_rate_limited")
    assert response["Retry-After"] == "17"
    assert fake_anthropic.calls == 1  # never sleeps on Anthropic's retry-after inside a request
    assert conversation.messages.get().status == "failed"
    assert_nothing_charged(user)


def test_upstream_bad_request_is_502_without_retry(auth_client, user, conversation, fake_anthropic):
    fake_anthropic.mode = "400"
    assert_api_error(send(auth_client, conversation, "hi"), 502, "assistant_upstream_error")
    assert fake_anthropic.calls == 1
    assert_nothing_charged(user)


def test_a_transient_500_is_retried_and_succeeds(auth_client, user, conversation, fake_anthropic):
    fake_anthropic.script.extend(["500"])
    response = send(auth_client, conversation, "hi")
    assert response.status_code == 201
    assert fake_anthropic.calls == 2
    assert MonthlyUsage.objects.get(user=user).requests == 1


def test_failed_message_is_kept_but_not_resent_as_history(auth_client, conversation, fake_anthropic):
    fake_anthropic.script.extend(["500", "500"])
    assert send(auth_client, conversation, "lost in transit").status_code == 502
    assert send(auth_client, conversation, "try again").status_code == 201
    texts = [
        m["content"] if isinstance(m["content"], str) else m["content"][0]["text"]
        for m in fake_anthropic.requests[-1].body["messages"]
    ]
    assert texts == ["try again"]
    assert list(conversation.messages.order_by("created_at").values_list("status", flat=True)) == ["failed", "ok", "ok"]


def test_conversation_is_touched_and_title_kept_when_given(auth_client, user, fake_anthropic):
    conversation = ConversationFactory(user=user, title="Mine")
    before = conversation.updated_at
    send(auth_client, conversation, "a very long first message " * 10)
    conversation = Conversation.objects.get(pk=conversation.pk)
    assert conversation.title == "Mine" and conversation.updated_at > before


def test_a_project_the_user_can_no_longer_read_never_reaches_the_prompt(auth_client, user, fake_anthropic):
    # A conversation whose project is not readable (here: the projects app has no selector yet).
    conversation = ConversationFactory(user=user, project_id=uuid.uuid4())
    assert_api_error(send(auth_client, conversation, "what is in the project?"), 404, "not_found")
    assert fake_anthropic.calls == 0
    assert not conversation.messages.exists()
