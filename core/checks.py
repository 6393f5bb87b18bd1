"""System checks for settings that would be unsafe in any environment, and (``check --deploy``) in
production."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

from .db import tls_settings


@register()
def cors_wildcard_with_credentials(app_configs: Any, **kwargs: Any) -> list[Error]:
    origins = list(settings.CORS_ALLOWED_ORIGINS)
    if settings.CORS_ALLOW_CREDENTIALS and ("*" in origins or settings.CORS_ALLOW_ALL_ORIGINS):
        return [Error("CORS must not allow every origin together with credentials.", id="core.E001")]
    return []


@register(Tags.database, Tags.security, deploy=True)
def database_tls_verified(app_configs: Any, **kwargs: Any) -> list[Error]:
    """Production talks to MySQL over TLS that checks the server: ``DATABASE_URL`` carries
    ``ssl_ca`` (an existing CA bundle, e.g. stackpro/certs/rds-global-bundle.pem) and
    ``ssl_verify_identity=true``. Without them a network attacker between Lambda and RDS reads
    every query."""
    database = settings.DATABASES["default"]
    if "mysql" not in database["ENGINE"]:
        return [Error(f"Production needs a MySQL DATABASE_URL (not {database['ENGINE']}).", id="core.E002")]
    ca, verify_identity = tls_settings(database)
    if not ca or not Path(ca).is_file():
        return [Error("DATABASE_URL needs ?ssl_ca=<an existing CA bundle file> (verified TLS).", id="core.E003")]
    if not verify_identity:
        return [Error("DATABASE_URL needs &ssl_verify_identity=true (check the server's name).", id="core.E004")]
    return []


@register()
def throttle_store_shared(app_configs: Any, **kwargs: Any) -> list[Error]:
    """Throttle counters live in a store every process shares (core/throttling.py): the database, or
    a cache that is not per-process memory (with two processes each would count alone)."""
    store = getattr(settings, "THROTTLE_STORE", "")
    if store not in {"cache", "database"}:
        return [Error(f"THROTTLE_STORE must be 'cache' or 'database', not {store!r}.", id="core.E005")]
    if store == "cache" and settings.CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache")):
        return [Error("THROTTLE_STORE='cache' needs a shared cache (REDIS_URL); use 'database'.", id="core.E006")]
    return []
