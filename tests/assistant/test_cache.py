"""The exact-match response cache: hits skip Anthropic and charge nothing; keys are tenant-scoped;
project answers are invalidated when the project's content version changes."""

import time
import uuid

import pytest
import time_machine
from django.core.cache import cache

from assistant.context import ProjectContext, ProjectFile
from assistant.models import MonthlyUsage
from assistant.prompting import Turn, build_system_blocks, response_cache_key
from tests.assistant.conftest import messages_url
from tests.assistant.factories import ConversationFactory

pytestmark = pytest.mark.django_db


def send(client, conversation, content):
    return client.post(messages_url(conversation), {"content": content}, format="json")


def test_same_turns_hit_the_cache_without_calling_anthropic(auth_client, user, fake_anthropic):
    first = send(auth_client, ConversationFactory(user=user), "What is a presigned POST?")
    assert first.status_code == 201 and first.json()["cached"] is False
    assert fake_anthropic.calls == 1

    again = send(auth_client, ConversationFactory(user=user), "What is a presigned POST?")
    assert again.status_code == 201
    body = again.json()
    assert body["cached"] is True
    assert body["content"] == first.json()["content"]
    assert body["usage"] == {
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
    }
    assert fake_anthropic.calls == 1  # no upstream call

    row = MonthlyUsage.objects.get(user=user)
    assert (row.requests, row.cache_hits, row.reserved_tokens) == (2, 1, 0)
    charged_once = row.used_tokens
    assert charged_once > 0
    usage = auth_client.get("/api/v1/assistant/usage/").json()
    assert usage["cache_hits"] == 1 and usage["tokens_used"] == charged_once


def test_different_history_is_a_miss(auth_client, user, fake_anthropic):
    conversation = ConversationFactory(user=user)
    send(auth_client, conversation, "hello")
    send(auth_client, conversation, "hello")  # same text, but now with history: a different prompt
    assert fake_anthropic.calls == 2


def test_another_user_never_gets_my_cached_answer(auth_client, other_client, user, other_user, fake_anthropic):
    fake_anthropic.reply = lambda body: "private answer for the first user"
    send(auth_client, ConversationFactory(user=user), "summarise my notes")
    fake_anthropic.reply = lambda body: "fresh answer"
    response = send(other_client, ConversationFactory(user=other_user), "summarise my notes")
    assert response.json()["cached"] is False
    assert response.json()["content"] == "fresh answer"
    assert fake_anthropic.calls == 2


def test_cache_expires_after_the_ttl(auth_client, user, fake_anthropic, settings):
    settings.ASSISTANT_CACHE_TTL = 60
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        # Redis keeps its own clock: check the TTL it holds instead of travelling in time.
        send(auth_client, ConversationFactory(user=user), "ttl?")
        keys = cache.keys("assistant:reply:*")
        assert keys and all(0 < cache.ttl(k) <= 60 for k in keys)
        return
    with time_machine.travel(time.time(), tick=False) as traveller:
        send(auth_client, ConversationFactory(user=user), "ttl?")
        traveller.shift(59)
        assert send(auth_client, ConversationFactory(user=user), "ttl?").json()["cached"] is True
        traveller.shift(2)
        response = send(auth_client, ConversationFactory(user=user), "ttl?")
    assert response.json()["cached"] is False and fake_anthropic.calls == 2


def test_changing_the_model_is_a_miss(auth_client, user, fake_anthropic, settings):
    send(auth_client, ConversationFactory(user=user), "which model?")
    settings.ANTHROPIC_MODEL = "claude-haiku-5-5"
    response = send(auth_client, ConversationFactory(user=user), "which model?")
    assert response.json()["cached"] is False and response.json()["model"] == "claude-haiku-5-5"


def _context(version: str, *, project_id=None) -> ProjectContext:
    return ProjectContext(
        project_id=project_id or uuid.UUID(int=7),
        name="Apollo",
        description="Moon landing",
        member_count=3,
        files=(ProjectFile(name="notes.md", size_bytes=12, content_type="text/markdown", text="# notes"),),
        content_version=version,
    )


def _key(context, user_id=1, turns=None):
    return response_cache_key(
        model="claude-sonnet-5-5",
        max_tokens=1024,
        system=build_system_blocks(context=context),
        turns=turns or [Turn("user", "what is in my notes?")],
        user_id=user_id,
        context=context,
    )


def test_project_keys_change_with_the_content_version_and_the_project():
    assert _key(_context("v1")) == _key(_context("v1"))
    assert _key(_context("v1")) != _key(_context("v2"))  # a file changed: cached answers no longer match
    assert _key(_context("v1")) != _key(_context("v1", project_id=uuid.UUID(int=8)))
    # Members of the same project share answers about it; without a project the user scopes the key.
    assert _key(_context("v1"), user_id=1) == _key(_context("v1"), user_id=2)
    assert _key(None, user_id=1) != _key(None, user_id=2)
    assert _key(None, user_id=1) != _key(_context("v1"), user_id=1)


def test_a_broken_cache_is_a_miss_not_an_error(auth_client, user, fake_anthropic, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2},
        }
    }
    # (pytest-django's settings fixture resets django.core.cache.caches on CACHES changes.)
    for _ in range(2):
        assert send(auth_client, ConversationFactory(user=user), "still works?").status_code == 201
    assert fake_anthropic.calls == 2


def test_a_cache_hit_runs_a_constant_handful_of_queries(auth_client, user, fake_anthropic, django_assert_num_queries):
    send(auth_client, ConversationFactory(user=user), "how many queries?")
    conversation = ConversationFactory(user=user)
    # user (JWT), conversation, history, savepoint, 2 inserts, conversation touch, usage update, release
    with django_assert_num_queries(9):
        response = send(auth_client, conversation, "how many queries?")
    assert response.json()["cached"] is True
