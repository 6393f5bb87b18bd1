"""``manage.py cost_report``: month-to-date AWS cost by service and a month-end projection.

Reads AWS Cost Explorer (``ce:GetCostAndUsage``; each call costs $0.01, so run it daily, not per
minute). The projection is linear: month-to-date cost / days elapsed x days in the month — honest
for steady traffic, pessimistic in a month with one-off charges (domain renewals, support plans).
``--threshold USD`` exits with status 2 when the projection exceeds it, for cron/CI alerting.
"""

from __future__ import annotations

import calendar
import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

METRIC = "UnblendedCost"


def make_client() -> Any:
    import boto3

    # Cost Explorer's only endpoint; AWS_ENDPOINT_URL (boto3's own variable) points it elsewhere.
    return boto3.client("ce", region_name="us-east-1")


def month_to_date(client: Any, today: date) -> dict[str, Decimal]:
    """Cost per service from the first of the month up to (not including) today."""
    start = today.replace(day=1)
    if today == start:  # Cost Explorer needs End > Start; nothing is billed yet on the 1st
        return {}
    costs: dict[str, Decimal] = defaultdict(Decimal)
    token = None
    while True:
        request: dict[str, Any] = {
            "TimePeriod": {"Start": start.isoformat(), "End": today.isoformat()},
            "Granularity": "MONTHLY",
            "Metrics": [METRIC],
            "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        }
        if token:
            request["NextPageToken"] = token
        response = client.get_cost_and_usage(**request)
        for period in response["ResultsByTime"]:
            for group in period.get("Groups", []):
                costs[group["Keys"][0]] += Decimal(group["Metrics"][METRIC]["Amount"])
        token = response.get("NextPageToken")
        if not token:
            return dict(costs)


def project_month_end(total: Decimal, today: date) -> Decimal:
    days_elapsed = (today - today.replace(day=1)).days  # complete days billed so far
    if days_elapsed == 0:
        return Decimal(0)
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    return total / days_elapsed * days_in_month


class Command(BaseCommand):
    help = "Month-to-date AWS cost by service and a month-end projection (Cost Explorer)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--threshold", type=Decimal, help="exit with status 2 if the projection exceeds this (USD)")
        parser.add_argument("--date", help="report as of this day (YYYY-MM-DD, UTC); default today")
        parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")

    def handle(self, *args: Any, **options: Any) -> None:
        today = date.fromisoformat(options["date"]) if options["date"] else datetime.now(UTC).date()
        try:
            costs = month_to_date(make_client(), today)
        except Exception as exc:  # noqa: BLE001 — botocore's errors vary; say what failed and stop
            raise CommandError(f"Cost Explorer failed: {exc}", returncode=1)
        total = sum(costs.values(), Decimal(0))
        projection = project_month_end(total, today)
        threshold = options["threshold"]
        over = threshold is not None and projection > threshold
        services = sorted(((name, cost) for name, cost in costs.items() if cost), key=lambda item: -item[1])
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "as_of": today.isoformat(),
                        "period_start": today.replace(day=1).isoformat(),
                        "period_end_exclusive": today.isoformat(),
                        "services": {name: f"{cost:.2f}" for name, cost in services},
                        "month_to_date": f"{total:.2f}",
                        "projected_month_end": f"{projection:.2f}",
                        "threshold": f"{threshold:.2f}" if threshold is not None else None,
                        "over_threshold": over,
                    }
                )
            )
        else:
            last_day = today - timedelta(days=1)
            self.stdout.write(f"AWS cost {today.replace(day=1)} .. {last_day} (USD, unblended)")
            for name, cost in services:
                self.stdout.write(f"  {name:<48} {cost:>10.2f}")
            self.stdout.write(f"  {'month to date':<48} {total:>10.2f}")
            self.stdout.write(f"  {'projected month end':<48} {projection:>10.2f}")
        if over:
            raise CommandError(
                f"projected month-end cost ${projection:.2f} exceeds the threshold ${threshold:.2f}", returncode=2
            )
