"""Stripe-shaped rows for dj-stripe models, built the way dj-stripe stores them (stripe_data JSON),
in the layout of the pinned API version (the current period on the subscription's items)."""

from __future__ import annotations

import itertools
from typing import Any

from djstripe.models import Customer, Product, Subscription

_ids = itertools.count(1)


def product(name: str) -> Product:
    pid = f"prod_{next(_ids):06d}"
    return Product.objects.create(id=pid, stripe_data={"id": pid, "object": "product", "name": name})


def subscription(
    *, customer: Customer | None = None, status: str = "active", prod: Product | None = None,
    amount: int = 1500, currency: str = "usd", interval: str = "month", interval_count: int = 1,
    quantity: int = 1, nickname: str = "", period_start: int = 1_897_408_000, period_end: int = 1_900_000_000,
) -> Subscription:  # fmt: skip
    sid = f"sub_{next(_ids):06d}"
    if customer is None:
        cid = f"cus_{next(_ids):06d}"
        customer = Customer.objects.create(id=cid, stripe_data={"id": cid, "object": "customer"})
    price = {
        "id": f"price_{next(_ids):06d}",
        "object": "price",
        "currency": currency,
        "unit_amount": amount,
        "nickname": nickname or None,
        "product": prod.id if prod else f"prod_missing{next(_ids)}",
        "recurring": {"interval": interval, "interval_count": interval_count},
    }
    data: dict[str, Any] = {
        "id": sid,
        "object": "subscription",
        "status": status,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{next(_ids)}",
                    "object": "subscription_item",
                    "price": price,
                    "quantity": quantity,
                    "current_period_start": period_start,
                    "current_period_end": period_end,
                }
            ],
        },
        "cancel_at_period_end": False,
    }
    return Subscription.objects.create(id=sid, customer=customer, stripe_data=data)


def customer(user: Any) -> Customer:
    cid = f"cus_{next(_ids):06d}"
    return Customer.objects.create(id=cid, subscriber=user, stripe_data={"id": cid, "object": "customer"})
