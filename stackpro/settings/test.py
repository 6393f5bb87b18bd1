"""Test settings: SQLite unless DATABASE_URL is set; REDIS_URL switches cache and throttles to Redis.

The test database's name carries a hash of every migration and the lock files, so a
reused test database (pytest --reuse-db) is always one built from the current migrations.
"""

import hashlib
from pathlib import Path

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES, env


def _schema_fingerprint() -> str:
    digest = hashlib.sha256()
    paths = sorted(Path(BASE_DIR).glob("*/migrations/*.py")) + sorted(Path(BASE_DIR).glob("requirements/*.lock"))
    for path in paths:
        digest.update(str(path.relative_to(BASE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": SECRET_KEY}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", default="stackpro-test")
for _cache in CACHES.values():  # noqa: F405
    _cache["KEY_PREFIX"] = CACHE_KEY_PREFIX
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / ".test-media")))
if STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):  # noqa: F405
    STORAGES["default"]["OPTIONS"] = {"location": str(MEDIA_ROOT)}  # noqa: F405
# The suite's throttle counters live in the cache (Redis when REDIS_URL is set, else this process's
# memory: one test process, so one count) wherever it runs, so query counts and "a refused request
# changed nothing" read the same with and without Redis. The database store has its own tests
# (tests/core/test_counter_store.py) and is what the packaged handler's tests run on.
THROTTLE_STORE = env("THROTTLE_STORE", default="cache")
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
LOGGING["loggers"]["stackpro.request"]["level"] = "WARNING"  # noqa: F405

_fingerprint = _schema_fingerprint()
_db = DATABASES["default"]  # noqa
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{_fingerprint}.sqlite3")}
else:
    _db.setdefault("TEST", {})["NAME"] = f"test_{_db['NAME']}_{_fingerprint}"
