"""Ensure a staff account exists for local use (``make run``).

Credentials come from LOCAL_ADMIN_EMAIL / LOCAL_ADMIN_PASSWORD; without a password one is generated,
printed once and kept in ``.local-admin-password`` (git-ignored) so later runs stay quiet.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the local staff account if it does not exist (refuses to run with DEBUG off)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("ensure_local_admin is for local development only (DEBUG is off).")
        User = get_user_model()
        email = os.environ.get("LOCAL_ADMIN_EMAIL", "admin@stackpro.local")
        if User.objects.filter(email=email.lower()).exists():
            self.stdout.write(f"Staff account: {email} (password as set before)")
            return
        password = os.environ.get("LOCAL_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(email=email, password=password, name="Local Admin")
        if not os.environ.get("LOCAL_ADMIN_PASSWORD"):
            Path(settings.BASE_DIR, ".local-admin-password").write_text(f"{email} {password}\n")
        self.stdout.write(self.style.SUCCESS(f"Created staff account {email} with password: {password}"))
