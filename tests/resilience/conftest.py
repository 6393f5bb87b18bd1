"""Fixtures of the fault suite: S3 (moto) behind a breakable proxy, the fake Anthropic and Stripe
servers, and helpers to run a real gunicorn on the pytest database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config

from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.stripe_server import FakeStripe
from tests.fixtures.moto import ACCESS_KEY, REGION, SECRET_KEY, S3Bucket, moto_s3_server, s3  # noqa: F401
from tests.support.tcp_proxy import FaultyProxy


@pytest.fixture(autouse=True)
def _fresh_flaky_attempts() -> Iterator[None]:
    """The flaky view counts attempts per name in the process: every test starts from none."""
    from tests.resilience.urls import FLAKY_ATTEMPTS

    FLAKY_ATTEMPTS.clear()
    yield
    FLAKY_ATTEMPTS.clear()


# Short S3 timeouts for the in-process tests (production defaults: settings, Projects section).
S3_CONNECT_TIMEOUT = 0.5
S3_READ_TIMEOUT = 0.5
S3_MAX_ATTEMPTS = 2


class BrokenS3:
    """The test's bucket, with the app talking to it through a proxy the test breaks."""

    def __init__(self, bucket: S3Bucket, proxy: FaultyProxy) -> None:
        self.bucket, self.proxy = bucket, proxy
        self.endpoint_url = f"http://127.0.0.1:{proxy.port}"

    def keys(self) -> list[str]:
        return self.bucket.keys()  # straight to moto, past the proxy

    def refuse(self) -> None:
        self.proxy.set_mode(FaultyProxy.REFUSE)

    def hang(self) -> None:
        self.proxy.set_mode(FaultyProxy.HANG)

    def restore(self) -> None:
        self.proxy.heal()


@pytest.fixture
def broken_s3(s3: S3Bucket, settings: Any) -> Iterator[BrokenS3]:  # noqa: F811
    """``default_storage`` on S3 through a FaultyProxy in front of the moto server (and its gate)."""
    gate_host, gate_port = s3.server.gate.server_address[:2]
    proxy = FaultyProxy(str(gate_host), int(gate_port)).start()
    broken = BrokenS3(s3, proxy)
    settings.AWS_S3_CLIENT_CONFIG = Config(
        signature_version="s3v4",
        connect_timeout=S3_CONNECT_TIMEOUT,
        read_timeout=S3_READ_TIMEOUT,
        retries={"total_max_attempts": S3_MAX_ATTEMPTS, "mode": "standard"},
    )
    settings.AWS_S3_ENDPOINT_URL = broken.endpoint_url
    default = settings.STORAGES["default"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**default, "OPTIONS": {**default["OPTIONS"], "endpoint_url": broken.endpoint_url}},
    }
    try:
        yield broken
    finally:
        proxy.stop()


def s3_server_env(broken: BrokenS3, *, connect: float = 1, read: float = 1, attempts: int = 1) -> dict[str, str]:
    """Environment of a gunicorn whose default storage is the broken S3."""
    return {
        "AWS_STORAGE_BUCKET_NAME": broken.bucket.name,
        "AWS_S3_ENDPOINT_URL": broken.endpoint_url,
        "AWS_S3_REGION_NAME": REGION,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_S3_CONNECT_TIMEOUT": str(connect),
        "AWS_S3_READ_TIMEOUT": str(read),
        "AWS_S3_MAX_ATTEMPTS": str(attempts),
    }


@pytest.fixture(scope="session")
def _anthropic_server() -> Iterator[FakeAnthropic]:
    fake = FakeAnthropic().start()
    yield fake
    fake.stop()


@pytest.fixture
def anthropic_fake(_anthropic_server: FakeAnthropic) -> Iterator[FakeAnthropic]:
    _anthropic_server.reset()
    yield _anthropic_server
    _anthropic_server.reset()


@pytest.fixture
def stripe_fake() -> Iterator[FakeStripe]:
    fake = FakeStripe().start()
    yield fake
    fake.stop()
