"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.models import User

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    email_verified = True
    password = factory.django.Password(DEFAULT_PASSWORD)
