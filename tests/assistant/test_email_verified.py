"""An unverified account cannot spend Anthropic tokens: the assistant answers 403 email_not_verified
before any upstream call (account farming for the 50,000-token free quota)."""

from __future__ import annotations

import pytest

from assistant.models import Conversation
from tests.assistant.factories import ConversationFactory
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db


def test_unverified_user_cannot_send_or_start_conversations(fake_anthropic):
    user = UserFactory(email_verified=False)
    client = client_for(user)
    conversation = ConversationFactory(user=user)
    response = client.post(f"/api/v1/assistant/conversations/{conversation.pk}/messages/", {"content": "Hello"})
    assert_api_error(response, 403, "email_not_verified")
    assert fake_anthropic.calls == 0
    assert_api_error(client.post("/api/v1/assistant/conversations/", {"title": "farm"}), 403, "email_not_verified")
    assert list(Conversation.objects.filter(user=user)) == [conversation]
    # Reading stays open (nothing to spend).
    assert client.get("/api/v1/assistant/conversations/").status_code == 200
    assert client.get("/api/v1/assistant/usage/").status_code == 200


def test_verified_user_still_sends(auth_client, user, fake_anthropic):
    conversation = ConversationFactory(user=user)
    response = auth_client.post(f"/api/v1/assistant/conversations/{conversation.pk}/messages/", {"content": "Hi"})
    assert response.status_code == 201, response.json()
    assert fake_anthropic.calls == 1
