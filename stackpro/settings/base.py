"""Settings shared by every environment; each backend is chosen from the environment.

With no variables set at all the service runs on embedded defaults: SQLite, local files,
console email, local-memory cache and Celery tasks run inline. See README.md for the variables.
https://docs.djangoproject.com/en/5.2/ref/settings/
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ

from core.db import database_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(BASE_DIR / ".env"))

# ---------------------------------------------------------------------------------------------
# General
# ---------------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="insecure-local-development-key-do-not-use-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
PRODUCT_NAME = env("PRODUCT_NAME", default="StackPro")
FRONTEND_URL = env("FRONTEND_URL", default="http://localhost:3000").rstrip("/")
# Origins the frontend may redirect to (checkout success/cancel URLs and the like).
FRONTEND_ORIGINS = env.list("FRONTEND_ORIGINS", default=[FRONTEND_URL])

ROOT_URLCONF = "stackpro.urls"
WSGI_APPLICATION = "stackpro.wsgi.application"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ADMIN_URL = env("ADMIN_URL", default="admin/")

# ---------------------------------------------------------------------------------------------
# Apps
# ---------------------------------------------------------------------------------------------
DJANGO_APPS = [
    "console.admin_config.ConsoleAdminConfig",  # django.contrib.admin with the console's site (console/)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "djstripe",
    "anymail",
    "django_otp",
    "django_otp.plugins.otp_totp",
]
LOCAL_APPS = [
    "core",
    "accounts",
    "notifications",
    "billing",
    "projects",
    "assistant",
    "console",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# ---------------------------------------------------------------------------------------------
# Middleware: request id and logging first, so every later line carries the id.
# ---------------------------------------------------------------------------------------------
MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "core.middleware.ApiJsonErrorsInDebugMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sits next to the view: replays still get the request id and security headers.
    "core.idempotency.IdempotencyMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# ---------------------------------------------------------------------------------------------
# Database: SQLite by default; DATABASE_URL=mysql://... for MySQL/MariaDB (see core/db.py).
# ---------------------------------------------------------------------------------------------
DATABASES: dict[str, dict[str, Any]] = {
    "default": database_config(
        env("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        connect_timeout=env.int("DB_CONNECT_TIMEOUT", default=3),
        # Web requests must fail fast (API Gateway gives up at 29 s); PyMySQL also bounds its handshake
        # with read_timeout, so it stays at 3 s too. manage.py raises both for long commands.
        read_timeout=env.int("DB_READ_TIMEOUT", default=3),
        write_timeout=env.int("DB_WRITE_TIMEOUT", default=3),
        conn_max_age=env.int("DB_CONN_MAX_AGE", default=60),
        # Skip the per-request ping on a connection that finished a request cleanly this recently.
        health_check_idle_seconds=env.float("DB_HEALTH_CHECK_IDLE_SECONDS", default=2),
    )
}

# ---------------------------------------------------------------------------------------------
# Cache, Celery and throttle counters: local memory and inline tasks unless REDIS_URL is set.
# ---------------------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", default="stackpro")
if REDIS_URL:
    CACHES: dict[str, dict[str, Any]] = {
        "default": {
            # django-redis whose reads miss, writes are dropped and throttles let requests through
            # while Redis is down; a circuit breaker stops every call from waiting for the socket
            # timeout (core/cache.py, docs/reliability.md).
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
                "CIRCUIT_BREAKER_SECONDS": env.int("CACHE_CIRCUIT_BREAKER_SECONDS", default=5),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "stackpro",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }

# Where throttle counters live (core/throttling.py): "cache" (the shared Redis) or "database" (the
# ThrottleCounter table). A per-process memory cache counts per process, never right for a limit.
THROTTLE_STORE = env("THROTTLE_STORE", default="cache" if REDIS_URL else "database")

# The project's Celery app, created on first use (core.tasks.celery_app), not when Django starts.
TASKS_CELERY_APP = "stackpro.celery.app"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=not (REDIS_URL or env("CELERY_BROKER_URL", default=""))
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# Bounded waits on a dead or hanging broker (publishing only; see core/tasks.py).
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# When the broker cannot take a task: "inline" runs it in the request, "refuse" answers 503.
TASK_BROKER_DOWN = env("TASK_BROKER_DOWN", default="inline")
# On Lambda Celery publishes to SQS (the Serverless section below), elsewhere to Redis.
CELERY_SQS_QUEUE_URL = env("CELERY_SQS_QUEUE_URL", default="")
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any]
if CELERY_BROKER_URL.startswith("sqs://"):
    # https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/sqs.html
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "region": env("CELERY_SQS_REGION", default=env("AWS_REGION", default="us-east-1")),
        "queue_name_prefix": env("CELERY_SQS_QUEUE_PREFIX", default=""),
        # Longer than the Lambda timeout, so a message is not redelivered while its task still runs.
        "visibility_timeout": env.int("CELERY_SQS_VISIBILITY_TIMEOUT", default=180),
        "wait_time_seconds": 0,
    }
    if CELERY_SQS_QUEUE_URL:
        # A predefined queue: no ListQueues/CreateQueue calls (and no IAM permission for them).
        CELERY_BROKER_TRANSPORT_OPTIONS["predefined_queues"] = {
            CELERY_TASK_DEFAULT_QUEUE: {"url": CELERY_SQS_QUEUE_URL}
        }
elif REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}

# ---------------------------------------------------------------------------------------------
# Auth
# ---------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Argon2id with stated parameters (accounts/hashers.py): memory-hard; hashes made with other
# parameters or PBKDF2 still verify and are upgraded at the next login.
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=10)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # Every token carries a hash of the password hash it was issued under (simplejwt's
    # REVOKE_TOKEN_CLAIM): a password set any way ends every token at once (docs/security.md).
    "CHECK_REVOKE_TOKEN": True,
}

# ---------------------------------------------------------------------------------------------
# Django REST framework and the API conventions (core/)
# ---------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_RENDERER_CLASSES": ["core.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "core.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.UserRateThrottle", "core.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env("THROTTLE_USER", default="1200/min"),
        "anon": env("THROTTLE_ANON", default="300/min"),
    },
    # The client IP is the address this many proxies in front of us saw (0: REMOTE_ADDR).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "StackPro API",
    "DESCRIPTION": "REST API of the StackPro SaaS backend. Errors share one body: {code, message, fields?}.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Choice sets that share a field name get names of their own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "ProjectRoleEnum": "projects.models.Role",
        "MessageRoleEnum": "assistant.models.Message.Role",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.idempotency.document_idempotency_key",  # the optional Idempotency-Key header and its 409
    ],
}
# Who may read /api/schema/ and /api/docs/: everyone locally; staff only (or nobody) in production.
API_DOCS_ACCESS = env("API_DOCS_ACCESS", default="public")  # public | staff | off

# ---------------------------------------------------------------------------------------------
# CORS and security headers
# ---------------------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_CREDENTIALS = env.bool("CORS_ALLOW_CREDENTIALS", default=False)
CORS_ALLOW_ALL_ORIGINS = False  # only CORS_ALLOWED_ORIGINS (core/checks.py refuses "*" with credentials)
# Content-Disposition: a browser app reads a download's file name cross-origin.
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After", "Idempotent-Replayed", "Content-Disposition"]
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "x-request-id",
]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = env(
    "CONTENT_SECURITY_POLICY",
    default="default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
)

# ---------------------------------------------------------------------------------------------
# Static and media files: local folders unless AWS_STORAGE_BUCKET_NAME is set (S3).
# ---------------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default="us-east-1")
AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=None)
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True
AWS_S3_FILE_OVERWRITE = False
AWS_QUERYSTRING_EXPIRE = env.int("AWS_QUERYSTRING_EXPIRE", default=600)
AWS_S3_SIGNATURE_VERSION = "s3v4"
# S3 down fails fast (503 storage_unavailable, docs/reliability.md) instead of botocore's defaults
# (60 s connect and read timeouts, up to 5 attempts): core/s3.py builds the client's Config from these.
AWS_S3_CONNECT_TIMEOUT = env.float("AWS_S3_CONNECT_TIMEOUT", default=2.0)
AWS_S3_READ_TIMEOUT = env.float("AWS_S3_READ_TIMEOUT", default=5.0)
AWS_S3_MAX_ATTEMPTS = env.int("AWS_S3_MAX_ATTEMPTS", default=2)  # the first try included
AWS_S3_ADDRESSING_STYLE = env("AWS_S3_ADDRESSING_STYLE", default=None)
_default_storage: dict[str, Any]
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {"BACKEND": "core.s3.S3Storage"}
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES: dict[str, dict[str, Any]] = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# ---------------------------------------------------------------------------------------------
# Email: printed to the console unless EMAIL_BACKEND says otherwise (SES via anymail in production).
# ---------------------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="StackPro <no-reply@stackpro.local>")
ANYMAIL: dict[str, Any] = {
    "AMAZON_SES_CLIENT_PARAMS": {
        "region_name": env("AWS_SES_REGION_NAME", default="us-east-1"),
        # The email task's SES calls bounded: a hanging SES costs a worker seconds, not minutes; the
        # task's own retries (notifications/tasks.py) do the rest.
        "config": {
            "connect_timeout": env.float("AWS_SES_CONNECT_TIMEOUT", default=2.0),
            "read_timeout": env.float("AWS_SES_READ_TIMEOUT", default=5.0),
            "retries": {"total_max_attempts": 2, "mode": "standard"},
        },
    },
    "WEBHOOK_SECRET": env("ANYMAIL_WEBHOOK_SECRET", default=""),
}
if env("AWS_SES_ENDPOINT_URL", default=""):  # a moto server locally / in tests
    ANYMAIL["AMAZON_SES_CLIENT_PARAMS"]["endpoint_url"] = env("AWS_SES_ENDPOINT_URL")
if env("AWS_SES_CONFIGURATION_SET", default=""):  # the set whose event destination is the SNS topic
    ANYMAIL["AMAZON_SES_CONFIGURATION_SET_NAME"] = env("AWS_SES_CONFIGURATION_SET")

# ---------------------------------------------------------------------------------------------
# Billing (Stripe via dj-stripe)
# ---------------------------------------------------------------------------------------------
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=False)
STRIPE_LIVE_SECRET_KEY = env("STRIPE_LIVE_SECRET_KEY", default="")
# dj-stripe rejects keys that are not shaped like real ones: this placeholder only satisfies it.
STRIPE_TEST_SECRET_KEY = env("STRIPE_TEST_SECRET_KEY", default="sk_test_" + "0" * 24 + "placeholder")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=8.0)
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"
DJSTRIPE_USE_NATIVE_JSONFIELD = True
DJSTRIPE_SUBSCRIBER_MODEL = "accounts.User"
# Stripe calls (billing/stripe_client.py): SDK retries on network errors (0 keeps a request inside
# STRIPE_TIMEOUT_SECONDS, itself clamped to 10 s for API Gateway).
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=0)
# Webhook endpoint row written by `manage.py billing_webhook_setup` (see docs/billing.md).
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_WEBHOOK_ENDPOINT_ID = env("STRIPE_WEBHOOK_ENDPOINT_ID", default="")
STRIPE_WEBHOOK_UUID = env("STRIPE_WEBHOOK_UUID", default="")
STRIPE_WEBHOOK_URL = env("STRIPE_WEBHOOK_URL", default="")
# A past_due subscription keeps its paid plan this many days after the unpaid period began.
BILLING_PAST_DUE_GRACE_DAYS = env.int("BILLING_PAST_DUE_GRACE_DAYS", default=7)

# ---------------------------------------------------------------------------------------------
# Assistant (Anthropic Claude)
# ---------------------------------------------------------------------------------------------
ANTHROPIC_API_KEY = env("ANTHROPIC_API_KEY", default="")
ANTHROPIC_BASE_URL = env("ANTHROPIC_BASE_URL", default="")
# claude-sonnet-4-5 reaches end-of-life on 2026-11-30 (anthropic SDK 2.14 deprecation table).
ANTHROPIC_MODEL = env("ANTHROPIC_MODEL", default="claude-sonnet-5-5")
ANTHROPIC_TIMEOUT_SECONDS = env.float("ANTHROPIC_TIMEOUT_SECONDS", default=20.0)
# The whole upstream part of a send (every attempt, backoff included) ends within this many seconds,
# inside API Gateway's 29 s; each attempt's timeout is min(ANTHROPIC_TIMEOUT_SECONDS, what is left).
ASSISTANT_DEADLINE_SECONDS = env.float("ASSISTANT_DEADLINE_SECONDS", default=26.0)
ASSISTANT_MAX_ATTEMPTS = env.int("ASSISTANT_MAX_ATTEMPTS", default=2)  # 1 try + 1 bounded retry
ASSISTANT_MAX_TOKENS = env.int("ASSISTANT_MAX_TOKENS", default=1024)  # reply cap sent as max_tokens
ASSISTANT_MAX_TOKENS_CEILING = env.int("ASSISTANT_MAX_TOKENS_CEILING", default=32_000)  # clamp
ASSISTANT_MESSAGE_MAX_CHARS = env.int("ASSISTANT_MESSAGE_MAX_CHARS", default=16_000)  # longer: 400
ASSISTANT_HISTORY_TOKEN_BUDGET = env.int("ASSISTANT_HISTORY_TOKEN_BUDGET", default=8_000)  # turns sent
ASSISTANT_PROJECT_CONTEXT_MAX_CHARS = env.int("ASSISTANT_PROJECT_CONTEXT_MAX_CHARS", default=40_000)
ASSISTANT_PROJECT_FILE_MAX_BYTES = env.int("ASSISTANT_PROJECT_FILE_MAX_BYTES", default=16_384)  # "small"
ASSISTANT_CACHE_TTL = env.int("ASSISTANT_CACHE_TTL", default=24 * 3600)  # response cache, seconds
ASSISTANT_SEND_RATE = env("ASSISTANT_SEND_RATE", default="20/min")  # per user, shared cache
ASSISTANT_ADMIN_SHOW_CONTENT = env.bool("ASSISTANT_ADMIN_SHOW_CONTENT", default=False)
# Cache reads count this fraction of a token against the monthly quota (they cost a tenth).
ASSISTANT_CACHE_READ_QUOTA_WEIGHT = env.float("ASSISTANT_CACHE_READ_QUOTA_WEIGHT", default=0.1)
# The model price table is code, not configuration: assistant/prices.py.

# ---------------------------------------------------------------------------------------------
# Logging: plain text locally, JSON lines in production (LOG_FORMAT=json); every line carries
# the request id.
# ---------------------------------------------------------------------------------------------
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "stackpro.request": {"level": env("REQUEST_LOG_LEVEL", default="INFO")},
        # Zappa's own Common Log line, written after the app returned (no request id): our
        # stackpro.request line is the access log, so Zappa's would only double the log bill.
        "zappa.wsgi": {"level": "WARNING"},
        # The anthropic SDK's HTTP client logs each call ("HTTP Request: POST .../v1/messages 200"),
        # a second line per send (and one per SnapStart init, for its warm-up call); botocore logs
        # where it found credentials each time a client is created. Their warnings still go out.
        "httpx2": {"level": "WARNING"},
        "botocore.credentials": {"level": "WARNING"},
    },
}

# ---------------------------------------------------------------------------------------------
# Accounts: verification/reset links and lifetimes, throttles on the anonymous auth endpoints.
# Rates are "count/period" (core.throttling.parse_rate), counted in the shared cache per client IP
# and per target email (docs/accounts.md).
# ---------------------------------------------------------------------------------------------
ACCOUNTS_VERIFY_EMAIL_URL = env("ACCOUNTS_VERIFY_EMAIL_URL", default=f"{FRONTEND_URL}/verify-email")
ACCOUNTS_PASSWORD_RESET_URL = env("ACCOUNTS_PASSWORD_RESET_URL", default=f"{FRONTEND_URL}/reset-password")
ACCOUNTS_VERIFY_EMAIL_TOKEN_SECONDS = env.int("ACCOUNTS_VERIFY_EMAIL_TOKEN_SECONDS", default=3 * 24 * 3600)
ACCOUNTS_PASSWORD_RESET_TOKEN_SECONDS = env.int("ACCOUNTS_PASSWORD_RESET_TOKEN_SECONDS", default=3600)
# The "this wasn't me" link sent to the old address after an email change (docs/security.md).
ACCOUNTS_EMAIL_REVERT_URL = env("ACCOUNTS_EMAIL_REVERT_URL", default=f"{FRONTEND_URL}/revert-email")
ACCOUNTS_EMAIL_REVERT_TOKEN_SECONDS = env.int("ACCOUNTS_EMAIL_REVERT_TOKEN_SECONDS", default=7 * 24 * 3600)
# register, resend and reset answer no sooner than this, whichever path they took (no timing oracle).
ACCOUNTS_MIN_RESPONSE_SECONDS = env.float("ACCOUNTS_MIN_RESPONSE_SECONDS", default=0.25)
# Key of the HMAC that the account_deleted event keeps of an erased address (docs/security.md
# "Erasure"); empty: derived from SECRET_KEY (salted_hmac with a purpose string). Set it to keep
# erased-address look-ups working across a SECRET_KEY rotation.
ACCOUNTS_ERASURE_HMAC_KEY = env("ACCOUNTS_ERASURE_HMAC_KEY", default="")
THROTTLE_LOGIN = env("THROTTLE_LOGIN", default="10/5m")  # per target email
THROTTLE_LOGIN_IP = env("THROTTLE_LOGIN_IP", default="30/5m")
THROTTLE_REGISTER = env("THROTTLE_REGISTER", default="3/h")
THROTTLE_REGISTER_IP = env("THROTTLE_REGISTER_IP", default="20/h")
THROTTLE_PASSWORD_RESET = env("THROTTLE_PASSWORD_RESET", default="3/h")
THROTTLE_PASSWORD_RESET_IP = env("THROTTLE_PASSWORD_RESET_IP", default="20/h")
THROTTLE_VERIFY_RESEND = env("THROTTLE_VERIFY_RESEND", default="3/h")
THROTTLE_VERIFY_RESEND_IP = env("THROTTLE_VERIFY_RESEND_IP", default="20/h")
# Current-password checks by a signed-in user (password change, account deletion), per user.
THROTTLE_PASSWORD_CHECK = env("THROTTLE_PASSWORD_CHECK", default="10/5m")

# ---------------------------------------------------------------------------------------------
# Notifications (docs/notifications.md): links in emails, SES endpoint, bounce webhook, digests
# ---------------------------------------------------------------------------------------------
# Public base URL of this API: the RFC 8058 one-click List-Unsubscribe target is built on it.
NOTIFICATIONS_PUBLIC_API_URL = env("PUBLIC_API_URL", default="http://localhost:8000").rstrip("/")
# The page the footer's "unsubscribe" link opens ({token} is replaced); it calls the API.
NOTIFICATIONS_UNSUBSCRIBE_PAGE_URL = env(
    "NOTIFICATIONS_UNSUBSCRIBE_PAGE_URL", default=FRONTEND_URL + "/notifications/unsubscribe/{token}"
)
NOTIFICATIONS_PREFERENCES_PATH = env("NOTIFICATIONS_PREFERENCES_PATH", default="/settings/notifications")
NOTIFICATIONS_INBOX_PATH = env("NOTIFICATIONS_INBOX_PATH", default="/notifications")
# Optional mailbox for List-Unsubscribe's mailto form (empty: the https form only).
NOTIFICATIONS_UNSUBSCRIBE_MAILTO = env("NOTIFICATIONS_UNSUBSCRIBE_MAILTO", default="")
NOTIFICATIONS_RETENTION_DAYS = env.int("NOTIFICATIONS_RETENTION_DAYS", default=90)
NOTIFICATIONS_DIGEST_MAX_ITEMS = env.int("NOTIFICATIONS_DIGEST_MAX_ITEMS", default=20)
# The digest jobs fan out in two steps (docs/notifications.md "Digests"): one page task per PAGE_SIZE
# users, which publishes one chunk task per CHUNK_SIZE users; both fit well inside a task's time
# budget on Lambda (LAMBDA_TASK_TIME_BUDGET_SECONDS).
NOTIFICATIONS_DIGEST_PAGE_SIZE = env.int("NOTIFICATIONS_DIGEST_PAGE_SIZE", default=5000)
NOTIFICATIONS_DIGEST_CHUNK_SIZE = env.int("NOTIFICATIONS_DIGEST_CHUNK_SIZE", default=50)
# A "sending" claim older than this is a dead worker's: the row may be claimed again.
NOTIFICATIONS_SEND_CLAIM_TIMEOUT = env.int("NOTIFICATIONS_SEND_CLAIM_TIMEOUT", default=600)
# SNS signing certificates are fetched only from URLs matching this (a system check keeps it Amazon's).
NOTIFICATIONS_SNS_CERT_URL_REGEX = r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[^?#]+\.pem$"
# SNS topics whose SES events are accepted (empty: any topic whose signature verifies; production
# refuses that in `check --deploy`, notifications/checks.py).
NOTIFICATIONS_SES_TOPIC_ARNS = env.list("NOTIFICATIONS_SES_TOPIC_ARNS", default=[])
# SNS messages whose signed Timestamp is further than this from now are refused (replays).
NOTIFICATIONS_SNS_MAX_AGE_SECONDS = env.int("NOTIFICATIONS_SNS_MAX_AGE_SECONDS", default=3600)

# ---------------------------------------------------------------------------------------------
# Projects: uploads, downloads, invitations (see docs/projects.md)
# ---------------------------------------------------------------------------------------------
# Life of a presigned POST form for a direct upload to S3.
PROJECTS_UPLOAD_URL_EXPIRY_SECONDS = env.int("PROJECTS_UPLOAD_URL_EXPIRY_SECONDS", default=900)
# Life of a signed download URL (capped at 900 s whatever is set).
PROJECTS_DOWNLOAD_URL_EXPIRY_SECONDS = env.int("PROJECTS_DOWNLOAD_URL_EXPIRY_SECONDS", default=300)
# Largest file accepted as a multipart upload through the API: API Gateway base64-encodes binary
# bodies for Lambda (x4/3), and Lambda refuses requests over 6 MB, so 4 MB is the safe ceiling.
PROJECTS_MULTIPART_MAX_BYTES = env.int("PROJECTS_MULTIPART_MAX_BYTES", default=4 * 1024 * 1024)
# Pending direct uploads older than this are deleted by projects.jobs.cleanup_stale_uploads.
PROJECTS_STALE_UPLOAD_AGE_SECONDS = env.int("PROJECTS_STALE_UPLOAD_AGE_SECONDS", default=6 * 3600)
PROJECTS_INVITATION_TTL_HOURS = env.int("PROJECTS_INVITATION_TTL_HOURS", default=168)
# Invitation emails per inviter and per recipient address ("count/period", shared-cache counters;
# revoked invitations count): invitations cannot be a free mailer for phishing.
PROJECTS_INVITE_RATE_PER_INVITER = env("PROJECTS_INVITE_RATE_PER_INVITER", default="50/d")
PROJECTS_INVITE_RATE_PER_RECIPIENT = env("PROJECTS_INVITE_RATE_PER_RECIPIENT", default="5/d")

# ---------------------------------------------------------------------------------------------
# Safe retries: a POST with an Idempotency-Key runs once (core/idempotency.py, docs/reliability.md).
# ---------------------------------------------------------------------------------------------
IDEMPOTENCY_METHODS = ["POST"]
IDEMPOTENCY_PATH_PREFIXES = ["/api/"]
# Regexes of paths the middleware leaves alone: the auth routes answer with tokens (a replay would
# hand out a rotated-out pair) and must run every time.
IDEMPOTENCY_EXCLUDED_PATHS = [r"^/api/v1/auth/"]
# request -> "user:<id>" or None: our JWT authentication (active user, revocation), docs/reliability.md.
IDEMPOTENCY_SCOPE_RESOLVER = "accounts.authentication.idempotency_scope"
IDEMPOTENCY_TTL_SECONDS = env.int("IDEMPOTENCY_TTL_SECONDS", default=24 * 3600)
IDEMPOTENCY_WAIT_SECONDS = env.float("IDEMPOTENCY_WAIT_SECONDS", default=2.0)
IDEMPOTENCY_LOCK_SECONDS = env.int("IDEMPOTENCY_LOCK_SECONDS", default=60)

# ---------------------------------------------------------------------------------------------
# Serverless (AWS Lambda via Zappa): Celery publishes to SQS (the Celery section above),
# stackpro/lambda_tasks.py runs the messages; CloudWatch EMF metric lines (core/metrics.py).
# See docs/serverless.md.
# ---------------------------------------------------------------------------------------------
IS_LAMBDA = bool(env("AWS_LAMBDA_FUNCTION_NAME", default=""))
METRICS_EMF = env.bool("METRICS_EMF", default=IS_LAMBDA)
# Per-route/model/task metric dimensions: each one is a billed custom metric (see core/metrics.py).
METRICS_DETAILED = env.bool("METRICS_DETAILED", default=False)
# A task from SQS starts only while more than this remains of the invocation (the rest of the batch
# is handed back to SQS): the email task's bounded SES calls take at most ~14 s (docs/serverless.md).
LAMBDA_TASK_TIME_BUDGET_SECONDS = env.float("LAMBDA_TASK_TIME_BUDGET_SECONDS", default=15.0)

# ---------------------------------------------------------------------------------------------
# Staff console (the admin at ADMIN_URL; see docs/console.md)
# ---------------------------------------------------------------------------------------------
# Staff must enter a TOTP code (django-otp) at the admin login; on by default in production.
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=False)
# django-otp's admin never shows a device's key or its config/QR page (manage.py
# staff_totp_device prints a new secret to whoever runs it on the server).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Admin login attempts allowed per client IP and per account ("count/period", core.throttling).
ADMIN_LOGIN_THROTTLE_IP = env("ADMIN_LOGIN_THROTTLE_IP", default="30/10m")
ADMIN_LOGIN_THROTTLE_USER = env("ADMIN_LOGIN_THROTTLE_USER", default="10/15m")
