"""``manage.py billing_sync [--customer cus_…] [--since YYYY-MM-DD]``: drift repair from Stripe."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from billing.services import stripe_sync


class Command(BaseCommand):
    help = "Re-read subscriptions and customers from Stripe and fix our copy (Stripe is the truth)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--customer", help="Only this Stripe customer id (cus_…).")
        parser.add_argument("--since", help="Only subscriptions/customers created on or after this date (ISO).")

    def handle(self, *args: Any, **options: Any) -> None:
        since = None
        if options.get("since"):
            raw = options["since"]
            parsed = parse_datetime(raw)
            if parsed is None:
                day = parse_date(raw)
                if day is None:
                    raise CommandError(f"--since: not a date: {raw!r}")
                parsed = datetime(day.year, day.month, day.day)
            since = parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)
        result = stripe_sync(customer_id=options.get("customer"), since=since, progress=self.stdout.write)
        summary = (
            f"Done: {result.subscriptions} subscription(s), {result.customers} customer(s), "
            f"{result.fixed} fixed, {result.errors} error(s)."
        )
        self.stdout.write(self.style.SUCCESS(summary) if not result.errors else self.style.WARNING(summary))
        if result.errors:
            raise CommandError(f"{result.errors} object(s) could not be synced")
