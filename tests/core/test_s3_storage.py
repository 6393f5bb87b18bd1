"""core/s3.py: the default storage's S3 client fails fast, with a config built from plain settings
when the storage is first used (the settings module no longer imports botocore)."""

from __future__ import annotations

from botocore.config import Config

from core.s3 import S3Storage


def test_the_client_config_comes_from_the_settings(settings):
    settings.AWS_S3_CONNECT_TIMEOUT, settings.AWS_S3_READ_TIMEOUT, settings.AWS_S3_MAX_ATTEMPTS = 1.5, 4.0, 3
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    config = S3Storage(bucket_name="a-bucket").client_config
    assert (config.connect_timeout, config.read_timeout) == (1.5, 4.0)
    assert config.retries == {"total_max_attempts": 3, "mode": "standard"}
    assert config.signature_version == "s3v4" and config.s3 == {"addressing_style": "path"}


def test_the_defaults_fail_fast():
    config = S3Storage(bucket_name="a-bucket").client_config
    assert (config.connect_timeout, config.read_timeout, config.retries["total_max_attempts"]) == (2.0, 5.0, 2)


def test_an_explicit_client_config_is_kept(settings):
    settings.AWS_S3_CLIENT_CONFIG = explicit = Config(connect_timeout=9)
    assert S3Storage(bucket_name="a-bucket").client_config is explicit
