"""CPU cost of a password check and of a login request (POST /api/v1/auth/token/).

Prints, per operation, the process CPU time (all threads: Argon2 hashes with 8 lanes) and the
wall time, for our hasher (accounts.hashers.Argon2idHasher: Argon2id, memory_cost=19456 KiB =
19 MiB, time_cost=2, parallelism=1), and for comparison Django's Argon2PasswordHasher (defaults:
time_cost=2, memory_cost=102400 KiB = 100 MiB, parallelism=8) and PBKDF2PasswordHasher (SHA-256,
1,000,000 iterations).

    .venv/bin/python bench/accounts_login_cost.py [--rounds N]

Runs on an in-memory SQLite database holding only the tables a login touches (no migrations; the
login limits count in its throttle table, raised out of the way).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "stackpro.settings.test"
os.environ["DATABASE_URL"] = "sqlite://:memory:"
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

from django.apps import apps  # noqa: E402
from django.contrib.auth.hashers import get_hasher  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

ARGON2_OURS = "accounts.hashers.Argon2idHasher"
ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"
PBKDF2 = "django.contrib.auth.hashers.PBKDF2PasswordHasher"
PASSWORD = "Zebra-Quartz-17-Lamp"
NO_THROTTLE = {f"THROTTLE_LOGIN{s}": "1000000/m" for s in ("", "_IP")}


def measure(fn, rounds: int) -> tuple[float, float]:
    """Median CPU ms and median wall ms of ``fn`` over ``rounds`` calls (after one warm-up)."""
    fn()
    cpu, wall = [], []
    for _ in range(rounds):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def create_tables() -> None:
    labels = [
        ("contenttypes", "ContentType"),
        ("core", "ThrottleCounter"),  # the login limits count here when there is no Redis
        ("auth", "Permission"),
        ("auth", "Group"),
        ("accounts", "User"),
        ("accounts", "AuthEvent"),
        ("token_blacklist", "OutstandingToken"),
        ("token_blacklist", "BlacklistedToken"),
    ]
    with connection.schema_editor() as editor:
        for app_label, model_name in labels:
            editor.create_model(apps.get_model(app_label, model_name))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the 401s are expected
    create_tables()
    from accounts.models import User

    print(f"rounds: {rounds} (medians); CPU = process time of all threads, wall = elapsed")
    print(f"{'operation':62} {'CPU ms':>8} {'wall ms':>8}")
    cases = (
        ("Argon2id m=19MiB t=2 p=1 (ours)", ARGON2_OURS),
        ("Argon2id (Django defaults)", ARGON2),
        ("PBKDF2-SHA256 1,000,000 it.", PBKDF2),
    )
    for index, (label, hasher_path) in enumerate(cases):
        with override_settings(PASSWORD_HASHERS=[hasher_path], **NO_THROTTLE):
            hasher = get_hasher("default")
            encoded = hasher.encode(PASSWORD, hasher.salt())
            cpu, wall = measure(lambda h=hasher, e=encoded: h.verify(PASSWORD, e), rounds)
            print(f"{'check_password, ' + label:62} {cpu:8.1f} {wall:8.1f}")

            email = f"bench-{index}@example.com"
            User.objects.create_user(email=email, password=PASSWORD, name="Bench")
            client = Client()

            def login(e=email, c=client) -> None:
                response = c.post("/api/v1/auth/token/", {"email": e, "password": PASSWORD}, "application/json")
                assert response.status_code == 200, response.content

            cpu, wall = measure(login, rounds)
            print(f"{'POST token/ (200), ' + label:62} {cpu:8.1f} {wall:8.1f}")

            def failed(c=client) -> None:
                body = {"email": "nobody@example.com", "password": PASSWORD}
                response = c.post("/api/v1/auth/token/", body, "application/json")
                assert response.status_code == 401, response.content

            cpu, wall = measure(failed, rounds)
            print(f"{'POST token/ (401, unknown email), ' + label:62} {cpu:8.1f} {wall:8.1f}")
    print(f"cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
