"""Production: secrets and hosts from the environment only; refuses to start without them.

Every other unsafe production setting is an Error in `manage.py check --deploy` (core, billing and
notifications checks; docs/security.md)."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from core.db import tls_settings

from .base import *  # noqa: F403
from .base import DATABASES, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")  # no default: a missing key stops start-up
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")  # no default either
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY)}  # noqa: F405

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

API_DOCS_ACCESS = env("API_DOCS_ACCESS", default="staff")
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405
# Live unless told otherwise: a forgotten variable must not let test cards buy paid plans.
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=True)
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=True)

# The database's TLS CA bundle (DATABASE_URL's ?ssl_ca=..., the RDS bundle committed under
# stackpro/certs/): a path that names no file would connect unverified or fail on the first request.
_DB_CA, _ = tls_settings(DATABASES["default"])
if _DB_CA and not Path(_DB_CA).is_file():
    raise ImproperlyConfigured(f"DATABASE_URL's ssl_ca names no file: {_DB_CA}")
