"""Stripe's JSON read into our dataclasses: the one place that knows where Stripe keeps a field.

Everything that reads a Stripe object — an SDK answer (``stripe_client``), dj-stripe's stored
``stripe_data``, a webhook's ``data.object`` — goes through here. The layout is the pinned API
version's (``stripe_client.API_VERSION``); rows mirrored under older versions stay readable:

- a subscription's period (``current_period_start``/``_end``) is on its items since 2025-03-31
  (read from the first item, else from the top level where older versions kept it);
- an invoice's subscription is under ``parent.subscription_details`` since 2025-03-31 (else the
  top-level ``subscription``);
- an item's ``price`` (else the legacy ``plan``, which carries ``interval`` at its top level).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

# Stripe amounts are in the currency's smallest unit; these currencies have none below the unit.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)


def get(obj: Any, key: str, default: Any = None) -> Any:
    """``obj[key]`` of a dict or SDK object; ``default`` when missing or null."""
    try:
        value = obj[key]
    except (KeyError, TypeError, AttributeError, IndexError):
        return default
    return default if value is None else value


def ref_id(value: Any) -> str:
    """The id of a reference that is either an id or an expanded object."""
    if isinstance(value, str):
        return value
    return get(value, "id", "") or ""


def mapping(value: Any) -> dict[str, Any]:
    """A plain dict of a dict or SDK object (``metadata``)."""
    if not value:
        return {}
    return value.to_dict() if hasattr(value, "to_dict") else dict(value)


def timestamp(value: Any) -> datetime | None:
    """A Stripe Unix timestamp as an aware datetime (None when absent)."""
    if not value:
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


def minor_units(currency: str) -> Decimal:
    """How many of the amounts Stripe sends make one unit of ``currency``."""
    return Decimal(1) if currency.lower() in ZERO_DECIMAL_CURRENCIES else Decimal(100)


@dataclass(frozen=True)
class Customer:
    id: str
    email: str
    deleted: bool
    metadata: dict[str, Any]
    raw: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_stripe(cls, obj: Any) -> Customer:
        return cls(
            id=get(obj, "id", ""),
            email=get(obj, "email", ""),
            deleted=bool(get(obj, "deleted", False)),
            metadata=mapping(get(obj, "metadata")),
            raw=obj,
        )


@dataclass(frozen=True)
class Price:
    """A price, or the legacy plan object; built from an id alone when the price is not expanded."""

    id: str
    lookup_key: str = ""
    nickname: str = ""
    product_id: str = ""
    product_name: str = ""  # only when the product is expanded
    unit_amount: int | None = None
    unit_amount_decimal: Decimal | None = None
    currency: str = ""
    interval: str = ""  # day | week | month | year, "" for a one-off price
    interval_count: int = 1
    active: bool = True
    raw: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_stripe(cls, obj: Any) -> Price:
        if isinstance(obj, str):
            return cls(id=obj, raw=obj)
        recurring = get(obj, "recurring", {})
        product = get(obj, "product")
        decimal = get(obj, "unit_amount_decimal")
        return cls(
            id=get(obj, "id", ""),
            lookup_key=get(obj, "lookup_key", ""),
            nickname=get(obj, "nickname", ""),
            product_id=ref_id(product),
            product_name="" if isinstance(product, str) else get(product, "name", ""),
            unit_amount=get(obj, "unit_amount"),
            unit_amount_decimal=Decimal(str(decimal)) if decimal is not None else None,
            currency=get(obj, "currency", ""),
            interval=get(recurring, "interval") or get(obj, "interval", ""),
            interval_count=int(get(recurring, "interval_count") or get(obj, "interval_count") or 1),
            active=bool(get(obj, "active", True)),
            raw=obj,
        )

    @property
    def amount(self) -> Decimal | None:
        """The amount in the currency's smallest unit (``unit_amount``, else its decimal form)."""
        if self.unit_amount is not None:
            return Decimal(self.unit_amount)
        return self.unit_amount_decimal


@dataclass(frozen=True)
class SubscriptionItem:
    price: Price
    quantity: int
    current_period_start: datetime | None
    current_period_end: datetime | None

    @classmethod
    def from_stripe(cls, obj: Any) -> SubscriptionItem:
        return cls(
            price=Price.from_stripe(get(obj, "price") or get(obj, "plan", {})),
            quantity=int(get(obj, "quantity") or 1),
            current_period_start=timestamp(get(obj, "current_period_start")),
            current_period_end=timestamp(get(obj, "current_period_end")),
        )


@dataclass(frozen=True)
class Subscription:
    id: str
    customer_id: str
    status: str
    items: tuple[SubscriptionItem, ...]
    price: Price | None  # the first item's (a subscription without items: the legacy top-level plan)
    cancel_at_period_end: bool
    current_period_start: datetime | None
    current_period_end: datetime | None
    trial_end: datetime | None
    created: datetime | None
    metadata: dict[str, Any]
    raw: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_stripe(cls, obj: Any) -> Subscription:
        items = tuple(SubscriptionItem.from_stripe(item) for item in get(get(obj, "items", {}), "data", []))
        first = items[0] if items else None
        plan = get(obj, "plan")
        return cls(
            id=get(obj, "id", ""),
            customer_id=ref_id(get(obj, "customer")),
            status=get(obj, "status", ""),
            items=items,
            price=first.price if first else (Price.from_stripe(plan) if plan else None),
            cancel_at_period_end=bool(get(obj, "cancel_at_period_end", False)),
            current_period_start=(first and first.current_period_start) or timestamp(get(obj, "current_period_start")),
            current_period_end=(first and first.current_period_end) or timestamp(get(obj, "current_period_end")),
            trial_end=timestamp(get(obj, "trial_end")),
            created=timestamp(get(obj, "created")),
            metadata=mapping(get(obj, "metadata")),
            raw=obj,
        )

    @property
    def price_id(self) -> str:
        return self.price.id if self.price else ""

    @property
    def price_lookup_key(self) -> str:
        return self.price.lookup_key if self.price else ""


@dataclass(frozen=True)
class Invoice:
    id: str
    customer_id: str
    subscription_id: str
    number: str
    status: str
    amount_due: int | None
    amount_paid: int | None
    currency: str
    period_start: datetime | None
    period_end: datetime | None
    hosted_invoice_url: str
    invoice_pdf: str
    raw: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_stripe(cls, obj: Any) -> Invoice:
        subscription = get(obj, "subscription") or get(
            get(get(obj, "parent", {}), "subscription_details", {}), "subscription"
        )
        return cls(
            id=get(obj, "id", ""),
            customer_id=ref_id(get(obj, "customer")),
            subscription_id=ref_id(subscription),
            number=get(obj, "number", ""),
            status=get(obj, "status", ""),
            amount_due=get(obj, "amount_due"),
            amount_paid=get(obj, "amount_paid"),
            currency=get(obj, "currency", ""),
            period_start=timestamp(get(obj, "period_start")),
            period_end=timestamp(get(obj, "period_end")),
            hosted_invoice_url=get(obj, "hosted_invoice_url", ""),
            invoice_pdf=get(obj, "invoice_pdf", ""),
            raw=obj,
        )


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    mode: str
    customer_id: str
    client_reference_id: str
    subscription_id: str

    @classmethod
    def from_stripe(cls, obj: Any) -> CheckoutSession:
        return cls(
            id=get(obj, "id", ""),
            url=get(obj, "url", ""),
            mode=get(obj, "mode", ""),
            customer_id=ref_id(get(obj, "customer")),
            client_reference_id=get(obj, "client_reference_id", ""),
            subscription_id=ref_id(get(obj, "subscription")),
        )


@dataclass(frozen=True)
class PortalSession:
    id: str
    url: str

    @classmethod
    def from_stripe(cls, obj: Any) -> PortalSession:
        return cls(id=get(obj, "id", ""), url=get(obj, "url", ""))
