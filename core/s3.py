"""The default storage on S3: django-storages' ``S3Storage`` whose botocore client fails fast.

S3 down must fail in seconds (503 ``storage_unavailable``, docs/reliability.md), not after
botocore's defaults (60 s connect and read timeouts, several attempts). The client's ``Config`` is
built here, when the storage is first used, from plain settings — ``AWS_S3_CONNECT_TIMEOUT``,
``AWS_S3_READ_TIMEOUT``, ``AWS_S3_MAX_ATTEMPTS`` (the first try included),
``AWS_S3_SIGNATURE_VERSION``, ``AWS_S3_ADDRESSING_STYLE`` — not in the settings module, which would
import botocore at every start (~20 ms of a plain Lambda cold start whose request may never touch
S3). An ``AWS_S3_CLIENT_CONFIG`` set explicitly (django-storages' own setting) is used as it is.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from storages.backends.s3 import S3Storage as DjangoStoragesS3Storage


def client_config() -> Any:
    from botocore.config import Config

    return Config(
        signature_version=settings.AWS_S3_SIGNATURE_VERSION,
        s3={"addressing_style": settings.AWS_S3_ADDRESSING_STYLE},
        connect_timeout=settings.AWS_S3_CONNECT_TIMEOUT,
        read_timeout=settings.AWS_S3_READ_TIMEOUT,
        retries={"total_max_attempts": settings.AWS_S3_MAX_ATTEMPTS, "mode": "standard"},
    )


class S3Storage(DjangoStoragesS3Storage):
    def get_default_settings(self) -> dict[str, Any]:
        defaults = super().get_default_settings()
        if defaults.get("client_config") is None:
            defaults["client_config"] = client_config()
        return defaults
