"""A small fake of Stripe's REST API on a loopback port, for the real stripe SDK (``stripe.api_base``).

Implements only what StackPro uses: account, customers (+ payment methods), checkout and billing
portal sessions, subscriptions (retrieve/list/cancel), prices (list by lookup key), products,
invoices, payment methods (detach). State is in memory; tests seed and inspect it, and can make
the next calls fail (``fail_next``) or hang (``hang_next``). Idempotency keys behave as at Stripe:
the same key replays the first answer.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.server import StrictHTTPServer

_TWO_PART = ("checkout/sessions", "billing_portal/sessions")
_PREFIX = {
    "customers": "cus",
    "checkout/sessions": "cs_test",
    "billing_portal/sessions": "bps",
    "subscriptions": "sub",
    "prices": "price",
    "products": "prod",
    "invoices": "in",
    "payment_methods": "pm",
}
_OBJECT = {
    "customers": "customer",
    "checkout/sessions": "checkout.session",
    "billing_portal/sessions": "billing_portal.session",
    "subscriptions": "subscription",
    "prices": "price",
    "products": "product",
    "invoices": "invoice",
    "payment_methods": "payment_method",
}


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0][c]=v``) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            nxt = None if last else parts[index + 1]
            if isinstance(node, list):
                pos = int(part)
                while len(node) <= pos:
                    node.append(None)
                if last:
                    node[pos] = value
                else:
                    if node[pos] is None:
                        node[pos] = [] if nxt.isdigit() else {}
                    node = node[pos]
            else:
                if last:
                    node[part] = value
                else:
                    if part not in node:
                        node[part] = [] if nxt.isdigit() else {}
                    node = node[part]
    return root


def _list(data: list[dict[str, Any]], url: str) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": False, "url": url}


class FakeStripe:
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.requests: list[dict[str, Any]] = []
        self._idempotent: dict[str, tuple[int, dict[str, Any]]] = {}
        self._failures: list[tuple[str, Any]] = []
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self.account = {
            "id": "acct_fake000000000001",
            "object": "account",
            "business_profile": {"name": "StackPro test"},
            "settings": {"dashboard": {"display_name": "StackPro test"}},
            "charges_enabled": True,
            "country": "US",
            "default_currency": "usd",
            "email": "billing@stackpro.test",
            "type": "standard",
            "created": 1_700_000_000,
            "metadata": {},
        }
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeStripe:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                parts = urlsplit(self.path)
                params = decode_form(parse_qsl(parts.query, keep_blank_values=True))
                params.update(decode_form(parse_qsl(body, keep_blank_values=True)))
                status, payload = fake.dispatch(self.command, parts.path, params, dict(self.headers))
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.send_header("Request-Id", f"req_{next(fake._ids)}")
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_DELETE = _handle

        self._server = StrictHTTPServer(("127.0.0.1", 0), Handler)
        self._server.thread_name = "fake-stripe"
        threading.Thread(target=self._server.serve_forever, name="fake-stripe", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- test controls -----------------------------------------------------------------------
    def fail_next(self, status: int = 500, *, type: str = "api_error", code: str | None = None, times: int = 1) -> None:
        for _ in range(times):
            self._failures.append(("fail", (status, type, code)))

    def hang_next(self, seconds: float, *, times: int = 1) -> None:
        for _ in range(times):
            self._failures.append(("hang", seconds))

    def new_id(self, resource: str) -> str:
        return f"{_PREFIX[resource]}_{next(self._ids):06d}fake"

    def calls(self, method: str | None = None, path_prefix: str = "") -> list[dict[str, Any]]:
        return [
            r for r in self.requests if (method is None or r["method"] == method) and r["path"].startswith(path_prefix)
        ]

    # -- seeding helpers ---------------------------------------------------------------------
    def add_product(self, name: str = "StackPro") -> dict[str, Any]:
        pid = self.new_id("products")
        obj = {
            "id": pid,
            "object": "product",
            "name": name,
            "active": True,
            "created": int(time.time()),
            "livemode": False,
            "metadata": {},
            "type": "service",
            "description": None,
            "default_price": None,
        }
        self.objects["products"][pid] = obj
        return obj

    def add_price(self, lookup_key: str, unit_amount: int = 1500, *, interval: str = "month") -> dict[str, Any]:
        product = self.add_product(lookup_key)
        pid = self.new_id("prices")
        obj = {
            "id": pid,
            "object": "price",
            "active": True,
            "currency": "usd",
            "lookup_key": lookup_key,
            "nickname": None,
            "product": product["id"],
            "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed"},
            "type": "recurring",
            "billing_scheme": "per_unit",
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
            "livemode": False,
            "created": int(time.time()),
            "metadata": {},
            "tax_behavior": "unspecified",
        }
        self.objects["prices"][pid] = obj
        return obj

    def add_customer(
        self, *, email: str = "someone@example.com", metadata: dict[str, str] | None = None
    ) -> dict[str, Any]:
        cid = self.new_id("customers")
        obj = self._customer(cid, {"email": email, "metadata": metadata or {}})
        self.objects["customers"][cid] = obj
        return obj

    def add_subscription(
        self,
        *,
        customer: str,
        price: dict[str, Any],
        status: str = "active",
        period_start: int | None = None,
        period_days: int = 30,
        cancel_at_period_end: bool = False,
        trial_end: int | None = None,
    ) -> dict[str, Any]:
        sid = self.new_id("subscriptions")
        start = period_start if period_start is not None else int(time.time())
        end = start + period_days * 86400
        obj = {
            "id": sid,
            "object": "subscription",
            "customer": customer,
            "status": status,
            "cancel_at_period_end": cancel_at_period_end,
            "cancel_at": None,
            "canceled_at": None,
            "ended_at": None,
            "created": start,
            "start_date": start,
            "billing_cycle_anchor": start,
            # API 2025-03-31+: the current period is on each item, no longer on the subscription.
            "trial_start": None,
            "trial_end": trial_end,
            "livemode": False,
            "metadata": {},
            "collection_method": "charge_automatically",
            "default_tax_rates": [],
            "discount": None,
            "latest_invoice": None,
            "items": _list([self._item(sid, price, start, end)], f"/v1/subscription_items?subscription={sid}"),
        }
        self.objects["subscriptions"][sid] = obj
        return obj

    def set_subscription(self, sid: str, *, price: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        obj = self.objects["subscriptions"][sid]
        obj.update(fields)
        if price is not None:
            item = obj["items"]["data"][0]
            obj["items"]["data"][0] = self._item(sid, price, item["current_period_start"], item["current_period_end"])
        return obj

    def add_invoice(
        self,
        *,
        customer: str,
        subscription: str | None = None,
        status: str = "paid",
        amount: int = 1500,
        created: int | None = None,
        currency: str = "usd",
    ) -> dict[str, Any]:
        iid = self.new_id("invoices")
        created = created or int(time.time())
        obj = {
            "id": iid,
            "object": "invoice",
            "customer": customer,
            "status": status,
            "number": f"INV-{iid[-10:]}",
            "amount_due": amount,
            "amount_paid": amount if status == "paid" else 0,
            "amount_remaining": 0 if status == "paid" else amount,
            "currency": currency,
            "created": created,
            "period_start": created - 30 * 86400,
            "period_end": created,
            "hosted_invoice_url": f"https://invoice.stripe.test/i/{iid}",
            "invoice_pdf": f"https://invoice.stripe.test/i/{iid}/pdf",
            "livemode": False,
            "metadata": {},
            "total": amount,
            "subtotal": amount,
            "attempt_count": 1,
            "billing_reason": "subscription_cycle",
            "discounts": [],
            "parent": {"type": "subscription_details", "subscription_details": {"subscription": subscription}}
            if subscription
            else None,
            "lines": _list([], f"/v1/invoices/{iid}/lines"),
        }
        self.objects["invoices"][iid] = obj
        return obj

    def add_payment_method(self, *, customer: str) -> dict[str, Any]:
        pid = self.new_id("payment_methods")
        obj = {
            "id": pid,
            "object": "payment_method",
            "type": "card",
            "customer": customer,
            "created": int(time.time()),
            "livemode": False,
            "metadata": {},
            "billing_details": {},
            "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
        }
        self.objects["payment_methods"][pid] = obj
        return obj

    # -- object builders ---------------------------------------------------------------------
    def _item(self, sid: str, price: dict[str, Any], start: int, end: int) -> dict[str, Any]:
        return {
            "id": f"si_{next(self._ids):06d}fake",
            "object": "subscription_item",
            "subscription": sid,
            "price": price,
            "quantity": 1,
            "created": start,
            "current_period_start": start,
            "current_period_end": end,
            "metadata": {},
            "tax_rates": [],
        }

    def _customer(self, cid: str, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": cid,
            "object": "customer",
            "email": params.get("email"),
            "name": params.get("name"),
            "metadata": params.get("metadata") or {},
            "created": int(time.time()),
            "livemode": False,
            "balance": 0,
            "currency": None,
            "delinquent": False,
            "description": None,
            "invoice_settings": {"default_payment_method": None},
            "default_source": None,
            "deleted": False,
        }

    # -- the API ------------------------------------------------------------------------------
    @staticmethod
    def _error(status: int, type: str, message: str, code: str | None = None) -> tuple[int, dict[str, Any]]:
        return status, {"error": {"type": type, "message": message, "code": code}}

    def dispatch(self, method: str, path: str, params: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
        with self._lock:
            self.requests.append({"method": method, "path": path, "params": params, "headers": headers})
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            kind, arg = failure
            if kind == "hang":
                time.sleep(arg)  # the client's timeout is what the test exercises
            else:
                status, etype, code = arg
                return self._error(status, etype, "Injected failure.", code)
        key = headers.get("Idempotency-Key") or headers.get("idempotency-key")
        with self._lock:
            if key and method in ("POST", "DELETE"):
                cached = self._idempotent.get(f"{method} {path} {key}")
                if cached is not None:
                    return cached
            answer = self._route(method, path, params)
            if key and method in ("POST", "DELETE") and answer[0] < 500:
                self._idempotent[f"{method} {path} {key}"] = answer
            return answer

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        rest = path.removeprefix("/v1/").strip("/")
        if rest == "account":
            return 200, self.account
        resource = next((r for r in _TWO_PART if rest.startswith(r)), rest.split("/")[0])
        tail = [p for p in rest[len(resource) :].split("/") if p]
        store = self.objects[resource]
        if not tail:
            if method == "GET":
                return 200, _list(self._filter(resource, store, params), f"/v1/{resource}")
            if method == "POST":
                return 200, self._create(resource, params)
        elif len(tail) == 1:
            obj = store.get(tail[0])
            if obj is None:
                noun = _OBJECT.get(resource, resource).split(".")[-1]
                return self._error(404, "invalid_request_error", f"No such {noun}: '{tail[0]}'", "resource_missing")
            if method == "GET":
                return 200, obj
            if method == "POST":
                obj.update({k: v for k, v in params.items() if k not in ("expand",)})
                return 200, obj
            if method == "DELETE":
                if resource == "subscriptions":
                    obj.update(status="canceled", canceled_at=int(time.time()), ended_at=int(time.time()))
                    return 200, obj
                if resource == "customers":
                    # As Stripe does: live subscriptions end now, cards are detached; invoices stay.
                    now = int(time.time())
                    for sub in self.objects["subscriptions"].values():
                        if sub["customer"] == tail[0] and sub["status"] not in ("canceled", "incomplete_expired"):
                            sub.update(status="canceled", canceled_at=now, ended_at=now)
                    for method in self.objects["payment_methods"].values():
                        if method["customer"] == tail[0]:
                            method["customer"] = None
                del store[tail[0]]
                return 200, {"id": tail[0], "object": _OBJECT.get(resource, resource), "deleted": True}
        elif len(tail) == 2:
            oid, action = tail
            if resource == "customers" and action == "payment_methods":
                methods = [pm for pm in self.objects["payment_methods"].values() if pm["customer"] == oid]
                return 200, _list(methods, path)
            if resource == "payment_methods" and action == "detach" and oid in store:
                store[oid]["customer"] = None
                return 200, store[oid]
            if resource == "subscriptions" and action == "cancel" and oid in store:
                store[oid].update(status="canceled", canceled_at=int(time.time()))
                return 200, store[oid]
            if method == "GET":
                return 200, _list([], path)
        return self._error(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path})")

    def _filter(self, resource: str, store: dict[str, dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
        items = list(store.values())
        if "customer" in params:
            items = [o for o in items if o.get("customer") == params["customer"]]
        status = params.get("status")
        if status and status != "all":
            items = [o for o in items if o.get("status") == status]
        if "lookup_keys" in params:
            keys = set(params["lookup_keys"])
            items = [o for o in items if o.get("lookup_key") in keys]
        if params.get("active") == "true":
            items = [o for o in items if o.get("active")]
        gte = (params.get("created") or {}).get("gte") if isinstance(params.get("created"), dict) else None
        if gte:
            items = [o for o in items if o.get("created", 0) >= int(gte)]
        return sorted(items, key=lambda o: o.get("created", 0), reverse=True)

    def _create(self, resource: str, params: dict[str, Any]) -> dict[str, Any]:
        oid = self.new_id(resource)
        if resource == "customers":
            obj = self._customer(oid, params)
        elif resource == "checkout/sessions":
            obj = {
                "id": oid,
                "object": "checkout.session",
                "url": f"https://checkout.stripe.test/c/pay/{oid}",
                "mode": params.get("mode"),
                "customer": params.get("customer"),
                "client_reference_id": params.get("client_reference_id"),
                "success_url": params.get("success_url"),
                "cancel_url": params.get("cancel_url"),
                "line_items_requested": params.get("line_items"),
                "metadata": params.get("metadata") or {},
                "status": "open",
                "subscription": None,
                "livemode": False,
                "created": int(time.time()),
            }
        elif resource == "billing_portal/sessions":
            obj = {
                "id": oid,
                "object": "billing_portal.session",
                "url": f"https://billing.stripe.test/p/session/{oid}",
                "customer": params.get("customer"),
                "return_url": params.get("return_url"),
                "livemode": False,
                "created": int(time.time()),
            }
        else:
            obj = {"id": oid, "object": _OBJECT.get(resource, resource), "created": int(time.time()), **params}
        self.objects[resource][oid] = obj
        return obj
