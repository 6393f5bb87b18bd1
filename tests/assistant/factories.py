"""Factories of the assistant's models."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from assistant.models import Conversation, Message
from tests.factories import UserFactory


class ConversationFactory(DjangoModelFactory[Conversation]):
    class Meta:
        model = Conversation

    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Conversation {n}")


class MessageFactory(DjangoModelFactory[Message]):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    role = Message.Role.USER
    content = factory.Sequence(lambda n: f"message {n}")
