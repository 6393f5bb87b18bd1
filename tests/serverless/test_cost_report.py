"""cost_report against Cost Explorer over HTTP: moto's server (whose answers a test queues through its
``/moto-api/static/ce/cost-and-usage-results`` endpoint), or a loopback endpoint that refuses."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from typing import Any

import pytest
import requests
from django.core.management import CommandError, call_command
from moto.ce.models import ce_backends

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"  # moto's default account


def page(groups: dict[str, str], token: str | None = None) -> dict:
    response: dict[str, Any] = {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": "2026-11-01", "End": "2026-11-16"},
                "Total": {},
                "Groups": [
                    {"Keys": [name], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}
                    for name, amount in groups.items()
                ],
                "Estimated": True,
            }
        ],
        "DimensionValueAttributes": [],
    }
    if token:
        response["NextPageToken"] = token
    return response


@pytest.fixture
def cost_explorer(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    backend = ce_backends[ACCOUNT]["aws"]
    backend.cost_usage_results_queue.clear()
    backend.cost_usage_results.clear()
    yield moto_endpoint
    backend.cost_usage_results_queue.clear()
    backend.cost_usage_results.clear()


def queue_month(endpoint: str) -> None:
    """Two pages: moto hands them out in order, one per distinct request, and the second request
    differs from the first only by the NextPageToken the first page carried."""
    results = [
        page({"Amazon Relational Database Service": "1.50", "AWS Lambda": "0.00"}, token="p2"),
        page({"Amazon Simple Storage Service": "0.30", "Amazon Relational Database Service": "0.20"}),
    ]
    response = requests.post(
        f"{endpoint}/moto-api/static/ce/cost-and-usage-results",
        json={"results": results, "account_id": ACCOUNT},
        timeout=5,
    )
    response.raise_for_status()


def requests_seen() -> list[dict[str, Any]]:
    return [json.loads(body) for body in ce_backends[ACCOUNT]["aws"].cost_usage_results]


def test_month_to_date_by_service_and_a_linear_projection(cost_explorer):
    queue_month(cost_explorer)
    out = StringIO()
    call_command("cost_report", "--date", "2026-11-16", "--json", stdout=out)
    report = json.loads(out.getvalue())
    # 15 complete days billed; November has 30 days: 2.00 / 15 * 30.
    assert report == {
        "as_of": "2026-11-16",
        "period_start": "2026-11-01",
        "period_end_exclusive": "2026-11-16",
        "services": {"Amazon Relational Database Service": "1.70", "Amazon Simple Storage Service": "0.30"},
        "month_to_date": "2.00",
        "projected_month_end": "4.00",
        "threshold": None,
        "over_threshold": False,
    }
    first = {
        "TimePeriod": {"Start": "2026-11-01", "End": "2026-11-16"},
        "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
    }
    assert requests_seen() == [first, {**first, "NextPageToken": "p2"}]


def test_a_projection_over_the_threshold_exits_non_zero(cost_explorer):
    queue_month(cost_explorer)
    out = StringIO()
    with pytest.raises(CommandError, match=r"\$4.00 exceeds the threshold \$3.50") as error:
        call_command("cost_report", "--date", "2026-11-16", "--threshold", "3.50", stdout=out)
    assert error.value.returncode == 2
    assert "Amazon Relational Database Service" in out.getvalue() and "4.00" in out.getvalue()


def test_under_the_threshold_succeeds_and_prints_the_table(cost_explorer):
    queue_month(cost_explorer)
    out = StringIO()
    call_command("cost_report", "--date", "2026-11-16", "--threshold", "5", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "AWS cost 2026-11-01 .. 2026-11-15 (USD, unblended)"
    assert lines[-2].split() == ["month", "to", "date", "2.00"]
    assert lines[-1].split() == ["projected", "month", "end", "4.00"]


def test_the_first_of_the_month_needs_no_call(cost_explorer):
    out = StringIO()
    call_command("cost_report", "--date", "2026-12-01", "--json", "--threshold", "1", stdout=out)
    report = json.loads(out.getvalue())
    assert report["projected_month_end"] == "0.00" and report["over_threshold"] is False
    assert requests_seen() == []


@pytest.fixture
def refusing_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Cost Explorer as it answers a caller without ce:GetCostAndUsage (JSON protocol error)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps({"__type": "AccessDeniedException", "message": "not allowed"}).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for key, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_SESSION_TOKEN": "x"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_cost_explorer_error_is_a_clear_failure(refusing_endpoint):
    with pytest.raises(CommandError, match="Cost Explorer failed: .*AccessDenied") as error:
        call_command("cost_report", "--date", "2026-11-16", stdout=StringIO())
    assert error.value.returncode == 1
