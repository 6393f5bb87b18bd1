"""How much does entitlements_for_user cost? Prints queries and mean time per call.

    DJANGO_SETTINGS_MODULE=stackpro.settings.test .venv/bin/python bench/billing_entitlements.py
(uses the reused test database; add DATABASE_URL=mysql://… to measure on MariaDB)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stackpro.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402


def main() -> None:
    setup_test_environment()
    settings.DATABASES["default"]["NAME"] = settings.DATABASES["default"]["TEST"]["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"]

    import importlib

    from django.db import transaction
    from djstripe.models import Customer, Subscription

    from billing.models import Plan
    from billing.selectors import entitlements_for_user
    from core.context import request_id_var
    from tests.factories import UserFactory

    with transaction.atomic():
        for plan in importlib.import_module("billing.migrations.0001_initial").PLANS:
            Plan.objects.update_or_create(code=plan["code"], defaults=plan)
        user = UserFactory(email="bench-billing@example.com")
        customer = Customer.objects.create(id="cus_bench", subscriber=user, livemode=False, stripe_data={})
        Subscription.objects.create(
            id="sub_bench",
            customer=customer,
            livemode=False,
            stripe_data={
                "status": "active",
                "items": {"data": [{"price": {"id": "price_x", "lookup_key": "stackpro_pro_monthly"}}]},
            },
        )
        with CaptureQueriesContext(connection) as ctx:
            ent = entitlements_for_user(user=user)
        print(f"plan={ent.plan_code} queries per call={len(ctx.captured_queries)}")
        n = 500
        start = time.perf_counter()
        for _ in range(n):
            entitlements_for_user(user=user)
        fresh = (time.perf_counter() - start) / n * 1000
        token = request_id_var.set("bench")
        start = time.perf_counter()
        for _ in range(n):
            entitlements_for_user(user=user)
        memo = (time.perf_counter() - start) / n * 1000
        request_id_var.reset(token)
        print(f"{connection.vendor}: fresh {fresh:.3f} ms/call, memoised within a request {memo:.4f} ms/call")
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
