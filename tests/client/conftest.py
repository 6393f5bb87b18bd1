"""Fixtures of the client's journey: S3 on a moto server, the fake Anthropic server, the plans."""

from tests.assistant.conftest import _fake_anthropic_server, fake_anthropic  # noqa: F401  (registers them)
from tests.billing.conftest import plan_catalogue  # noqa: F401  (autouse: a live server's test flushes them)
from tests.fixtures.moto import moto_s3_server, s3  # noqa: F401
