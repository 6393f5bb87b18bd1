"""The Lambda entry point (``app_function`` in zappa_settings.json): Django's WSGI application, loaded
whole during Lambda's init phase, and the SnapStart snapshot hooks.

With ``INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT`` (``aws_environment_variables``) the handler module
(core/lambda_handler.py) imports this one as Lambda imports it — during init, which SnapStart (prod)
captures in the snapshot. ``warm_up`` then loads
what a request would otherwise load on first use: the URLconf and every view module, DRF's settings
classes, the request path's lazily imported modules; and when init is snapshotted
(``AWS_LAMBDA_INITIALIZATION_TYPE`` is ``snap-start`` or ``provisioned-concurrency``) the vendor SDKs
too (anthropic ~1 s, stripe, the boto3 clients' models), and the database is read once: the hot
requests' reads for a user that does not exist, so the snapshot holds what a process builds on its
first queries. A plain on-demand cold start leaves the SDKs to the first request that needs them:
most never do (docs/performance.md, cold start).

Snapshot safety (``snapshot_restore_py``, part of the python3.12+ runtime): before the snapshot every
socket is closed — database connections, Redis, the Celery/SQS producer pool, boto3/anthropic/stripe
clients — because one snapshot is restored into many environments and a socket or TLS session in it
would be shared by all of them; clients are re-created lazily on first use. After restore ``random``
is reseeded (each restored copy would otherwise draw the same sequence); ``secrets``/``uuid4`` read
the OS each time. Nothing else caches per-environment state at import (no timestamps: the request
id, JWT expiry and throttle windows are read at request time).
"""

from __future__ import annotations

import gc
import logging
import os
import random
import sys
import types
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stackpro.settings.production")

application = get_wsgi_application()
logger = logging.getLogger("stackpro.lambda")

SNAPSHOTTED_INITS = {"snap-start", "provisioned-concurrency"}
# Modules a request reaches through a lazy import (inside a function), loaded here instead.
REQUEST_MODULES = (
    "core.renderers",
    "core.exceptions",
    "core.throttling",
    "accounts.authentication",
    "rest_framework_simplejwt.tokens",
    "rest_framework_simplejwt.token_blacklist.models",
    "django.contrib.auth.hashers",
    "django.contrib.messages.storage.fallback",
    "django.contrib.sessions.serializers",
    "django.db.backends.mysql.compiler",
    "rest_framework_simplejwt.state",  # the JWT backend: PyJWT, and cryptography's x509 through it
)
# What only some requests need: the vendor SDKs, and the Celery app with the tasks modules (a request
# that queues work imports them; a plain cold start leaves them to it).
VENDOR_SDKS = (
    "stripe",
    "core.s3",
    "anymail.backends.amazon_ses",
    "notifications.sns",
    "notifications.tasks",
    "projects.tasks",
)


def warm_up(*, vendor_sdks: bool) -> None:
    """Import and build what requests use, so the first one after init (or after a restore) pays
    only its own work. ``vendor_sdks`` (a snapshotted init) adds what only some requests need: the
    third-party SDKs and the URL reverse lookups."""
    import importlib

    from django.db import connection
    from django.urls import get_resolver
    from rest_framework.settings import api_settings

    resolver = get_resolver()
    _ = resolver.url_patterns  # every view module
    for name in api_settings.defaults:
        getattr(api_settings, name)  # imports the authentication, renderer, throttle... classes
    for module in REQUEST_MODULES:
        importlib.import_module(module)
    connection.get_connection_params()  # builds the shared TLS context (core/db_backends/mysql), no connect
    from django.core.cache import caches

    caches["default"]  # the backend object (a Redis one connects on first use, not here)
    if vendor_sdks:
        # Free in a snapshot, ~20 ms of a plain cold start that most requests never use (a request
        # compiles only the patterns it tries; reverse() needs them all).
        resolver._populate()
        from assistant import claude

        for module in VENDOR_SDKS:
            importlib.import_module(module)
        import boto3

        for service in ("s3", "sqs", "sesv2"):  # loads each service model (JSON) into botocore's cache
            boto3.session.Session().client(service, region_name=os.environ.get("AWS_REGION", "us-east-1"))
        _compile_lazy_regexes()
        # Last, once every module is loaded: registering an ABC (Celery's modules do, as they load)
        # voids every ABC's cached "not a subclass" answers, which this call and these reads fill
        # for the first request's isinstance checks (each miss walks e.g. Mapping's subclass tree).
        claude.warm_up()
        warm_database()


def _compile_lazy_regexes() -> None:
    """Compile the module-level regexes Django compiles on first use (``_lazy_re_compile``: host
    validation, SQL alias and ordering checks, the server version's...) in every loaded module."""
    from django.utils.functional import SimpleLazyObject, empty

    for module in list(sys.modules.values()):
        if type(module) is not types.ModuleType:  # a lazy module would load on inspection
            continue
        for value in list(vars(module).values()):
            if (
                type(value) is SimpleLazyObject
                and value.__dict__.get("_wrapped") is empty
                and getattr(value.__dict__.get("_setupfunc"), "__qualname__", "")
                == "_lazy_re_compile.<locals>._compile"
            ):
                value._setup()


def warm_database() -> None:
    """Run the hot requests' reads once, for a user that does not exist (each matches no row): what a
    process builds on its first queries — the server's version and variables (``mysql_server_data``,
    read once per process), the models' field maps, the compilers' and the prepared reads' caches —
    lands in the snapshot, and a restore's first request pays for its own queries only (the
    connection itself is closed by ``before_snapshot``). A database that does not answer (or lacks
    a table: the first deploy's init runs before ``migrate``) costs these savings only."""
    import uuid

    from django.contrib.auth import get_user_model
    from django.db import DatabaseError

    from assistant.selectors import conversation_get_for_user, usage_summary_for_user
    from core import rawsql
    from core.errors import NotFound
    from projects.selectors import project_page_for_user

    user_model = get_user_model()
    nobody = user_model(pk=uuid.uuid4())  # never saved
    try:
        rawsql.get_by_pk(user_model, nobody.pk)  # the JWT's user
        project_page_for_user(user=nobody, limit=20, offset=0)  # the projects list
        usage_summary_for_user(user=nobody)  # the plan (subscriptions, plans) and the month's usage
        try:
            conversation_get_for_user(user=nobody, conversation_id=nobody.pk)
        except NotFound:
            pass
    except DatabaseError as exc:
        logger.warning("database warm-up skipped: %s", exc)


def before_snapshot() -> None:
    """Close every connection the snapshot would otherwise carry into every restored environment."""
    import boto3
    from django.core.cache import caches
    from django.db import connections

    from assistant import claude
    from stackpro.celery import app as celery_app

    connections.close_all()
    for cache in caches.all(initialized_only=True):
        disconnect = getattr(cache, "disconnect", None)  # core.cache.ResilientRedisCache
        disconnect() if disconnect else cache.close()
    _close_celery_pools(celery_app)
    _close_anthropic_connections(claude)
    boto3.DEFAULT_SESSION = None  # cached credentials and clients
    _reset_storage_connections()
    _reset_stripe_http_client()
    # What the runtime and these hooks allocated since init's freeze (core/lambda_handler.py) joins
    # it: a restored environment's first request collects only its own objects.
    gc.freeze()


def after_restore() -> None:
    """Make what must differ per environment differ: ``random``'s state. Connections need nothing
    here: they were closed before the snapshot and open on first use."""
    random.seed()


def _close_celery_pools(app: Any) -> None:
    """The broker connection pool and the producer pool (SQS), closed and dropped as Celery does after
    a fork (``Celery._after_fork``); a publish opens new ones."""
    pools = [app._pool, getattr(app.__dict__.get("amqp"), "_producer_pool", None)]
    for pool in pools:
        if pool is not None:
            pool.force_close_all()
    app._after_fork()


def _close_anthropic_connections(claude: Any) -> None:
    """Close the sockets of the anthropic client's pool (none at init: warm-up sends nothing) but keep
    the client, whose transport and TLS context cost ~0.4 s to build; the pool opens new connections."""
    if "anthropic" not in sys.modules or not claude.is_configured():
        return
    transport = getattr(claude.get_client()._client, "_transport", None)
    pool = getattr(transport, "_pool", None)
    if pool is None:  # an SDK that moved its pool: drop the client instead (rebuilt on first use)
        claude._client.cache_clear()
    else:
        pool.close()


def _reset_storage_connections() -> None:
    import threading

    from django.core.files.storage import default_storage, storages

    for storage in [default_storage._wrapped, *storages._storages.values()]:  # type: ignore[attr-defined]
        if hasattr(storage, "_connections"):  # django-storages' S3 resources, per thread
            storage._connections = threading.local()
            storage._unsigned_connections = threading.local()


def _reset_stripe_http_client() -> None:
    """stripe-python's module-level HTTP client (a requests session), created on its first call."""
    stripe: Any = sys.modules.get("stripe")
    if stripe is not None and getattr(stripe, "default_http_client", None) is not None:
        stripe.default_http_client.close()
        stripe.default_http_client = None


def _register_snapshot_hooks() -> bool:
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:  # not on Lambda (or a runtime before python3.12): no snapshots to prepare
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True


if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    warm_up(vendor_sdks=os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") in SNAPSHOTTED_INITS)
    _register_snapshot_hooks()
