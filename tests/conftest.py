"""Fixtures shared by every test: users, API clients, no network beyond loopback, a clean cache."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.openapi import SchemaCheckedClient, current_test

pytest_plugins = ["pytester", "tests.skip_guard"]

# ------------------------------------------------------------------------------------------------
# Network: only loopback. An un-faked client (Stripe, Anthropic, AWS) fails loudly instead of
# reaching the internet.
# ------------------------------------------------------------------------------------------------
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_allowed(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # unix socket
        return True
    host = address[0]
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_allowed(address):
        raise ConnectionRefusedError(f"tests may only connect to loopback, not {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _is_allowed(address):
        raise ConnectionRefusedError(f"tests may only connect to loopback, not {address!r}")
    return _real_connect_ex(self, address)


def pytest_configure(config: pytest.Config) -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _schema_checked_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tells the schema-checked clients which test runs (their opt-out list names tests)."""
    current_test["nodeid"] = request.node.nodeid
    yield
    current_test["nodeid"] = ""


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _stackpro_celery_app_is_current() -> Iterator[None]:
    """A test that builds its own Celery app (to publish to a fake SQS queue) makes it the current
    app unless told otherwise, and every later ``shared_task`` call would publish there instead of
    running inline. Put ours back after every test."""
    yield
    from stackpro.celery import app

    app.set_current()


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Any) -> None:
    if settings.STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):
        settings.MEDIA_ROOT = tmp_path / "media"
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(tmp_path / "media")}},
        }


# ------------------------------------------------------------------------------------------------
# Threads: an exception that ends a thread fails the test (pyproject.toml makes pytest's
# PytestUnhandledThreadExceptionWarning an error), unless the test expected that very death.
# ------------------------------------------------------------------------------------------------
class ThreadDeaths:
    """The threads a test expects to die: ``thread_deaths.expect("fake-anthropic-request",
    BrokenPipeError)``. A death that matches a name prefix and an exception type is recorded in
    ``seen`` instead of failing the test; any other still fails it."""

    def __init__(self) -> None:
        self.expected: list[tuple[str, tuple[type[BaseException], ...]]] = []
        self.seen: list[tuple[str, BaseException]] = []

    def expect(self, name_prefix: str, *types: type[BaseException]) -> None:
        assert types, "name the exception types the thread is expected to die of"
        self.expected.append((name_prefix, types))

    def matches(self, args: threading.ExceptHookArgs) -> bool:
        name = args.thread.name if args.thread is not None else ""
        return any(name.startswith(prefix) and isinstance(args.exc_value, types) for prefix, types in self.expected)


@pytest.fixture
def thread_deaths() -> Iterator[ThreadDeaths]:
    deaths = ThreadDeaths()
    previous = threading.excepthook  # pytest's: it reports the death at the end of the test phase

    def hook(args: threading.ExceptHookArgs) -> None:
        if deaths.matches(args):
            deaths.seen.append((args.thread.name if args.thread else "", args.exc_value))  # type: ignore[arg-type]
        else:
            previous(args)

    threading.excepthook = hook
    try:
        yield deaths
    finally:
        threading.excepthook = previous


# ------------------------------------------------------------------------------------------------
# Users and clients
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def password() -> str:
    return DEFAULT_PASSWORD


@pytest.fixture
def user(db: None) -> Any:
    return UserFactory()


@pytest.fixture
def other_user(db: None) -> Any:
    return UserFactory()


@pytest.fixture
def api_client() -> SchemaCheckedClient:
    """An anonymous client that speaks JSON; every API response is checked against the schema."""
    return SchemaCheckedClient()


def client_for(user: Any) -> SchemaCheckedClient:
    """A client carrying a real access token for ``user`` (through JWT authentication)."""
    client = SchemaCheckedClient()
    token = RefreshToken.for_user(user).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.user = user  # type: ignore[attr-defined]
    return client


@pytest.fixture
def auth_client(user: Any) -> SchemaCheckedClient:
    return client_for(user)


@pytest.fixture
def other_client(other_user: Any) -> SchemaCheckedClient:
    return client_for(other_user)
