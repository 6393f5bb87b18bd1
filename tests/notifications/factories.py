"""Factories of the notifications tests."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from notifications.models import Notification
from tests.factories import UserFactory


class NotificationFactory(DjangoModelFactory[Notification]):
    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    category = "project"
    title = factory.Sequence(lambda n: f"Notification {n}")
    body = "Something happened."
    link = "/projects/1"
