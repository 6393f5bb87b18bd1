"""Fixtures for the staff console: staff members of each role and logged-in admin clients."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory


def staff(*, groups: tuple[str, ...] = (), superuser: bool = False, **extra: Any) -> Any:
    user = UserFactory(is_staff=True, is_superuser=superuser, **extra)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def superuser(db: None) -> Any:
    return staff(superuser=True, email="root@stackpro.test", name="Root Admin")


@pytest.fixture
def support_user(db: None) -> Any:
    return staff(groups=("support",), email="support@stackpro.test", name="Sam Support")


@pytest.fixture
def billing_user(db: None) -> Any:
    return staff(groups=("billing",), email="billing@stackpro.test", name="Bea Billing")


def admin_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def root_client(superuser: Any) -> Client:
    return admin_client(superuser)


@pytest.fixture
def support_client(support_user: Any) -> Client:
    return admin_client(support_user)


@pytest.fixture
def billing_client(billing_user: Any) -> Client:
    return admin_client(billing_user)


def admin_url(name: str, *args: Any) -> str:
    return reverse(f"admin:{name}", args=args)


# Stripe over HTTP (the billing app's fake server) and the plan catalogue its data migration makes.
from tests.billing.conftest import fake_stripe, plan_catalogue, prices, subscribe  # noqa: E402,F401
