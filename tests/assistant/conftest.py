"""Fixtures of the assistant tests: a fake Anthropic server the real SDK talks to, conversations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.assistant.factories import ConversationFactory
from tests.fakes.anthropic_server import FakeAnthropic


@pytest.fixture(scope="session")
def _fake_anthropic_server() -> Iterator[FakeAnthropic]:
    from assistant.claude import load_sdk

    # The SDK's first import (~1 s, more on a busy machine) would count against the first timed
    # send's deadline; a server worker imports it as it starts (deploy/gunicorn_conf.py), so do the same.
    load_sdk()
    fake = FakeAnthropic().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_anthropic(_fake_anthropic_server: FakeAnthropic, settings) -> Iterator[FakeAnthropic]:
    """The fake server, reset, with settings pointing the SDK at it and short timeouts."""
    _fake_anthropic_server.reset()
    settings.ANTHROPIC_API_KEY = "sk-ant-test-key"
    settings.ANTHROPIC_BASE_URL = _fake_anthropic_server.url
    settings.ANTHROPIC_MODEL = "claude-sonnet-5-5"
    settings.ANTHROPIC_TIMEOUT_SECONDS = 0.5
    settings.ASSISTANT_DEADLINE_SECONDS = 2.0
    settings.ASSISTANT_SEND_RATE = "1000/min"
    yield _fake_anthropic_server
    _fake_anthropic_server.reset()


@pytest.fixture
def conversation(user):
    return ConversationFactory(user=user)


def messages_url(conversation) -> str:
    return f"/api/v1/assistant/conversations/{conversation.pk}/messages/"
