"""cost_report against a real botocore Cost Explorer client with Stubber (requests are validated)."""

from __future__ import annotations

import json
from io import StringIO

import boto3
import pytest
from botocore.stub import Stubber
from django.core.management import CommandError, call_command


def page(groups: dict[str, str], token: str | None = None) -> dict:
    response = {
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


def expected_request(token: str | None = None) -> dict:
    request = {
        "TimePeriod": {"Start": "2026-11-01", "End": "2026-11-16"},
        "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
    }
    if token:
        request["NextPageToken"] = token
    return request


@pytest.fixture
def ce():
    client = boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def stub_month(stubber):
    stubber.add_response(
        "get_cost_and_usage",
        page({"Amazon Relational Database Service": "1.50", "AWS Lambda": "0.00"}, token="p2"),
        expected_request(),
    )
    stubber.add_response(
        "get_cost_and_usage",
        page({"Amazon Simple Storage Service": "0.30", "Amazon Relational Database Service": "0.20"}),
        expected_request("p2"),
    )


def test_month_to_date_by_service_and_a_linear_projection(ce):
    client, stubber = ce
    stub_month(stubber)
    out = StringIO()
    call_command("cost_report", "--date", "2026-11-16", "--json", client=client, stdout=out)
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


def test_a_projection_over_the_threshold_exits_non_zero(ce):
    client, stubber = ce
    stub_month(stubber)
    out = StringIO()
    with pytest.raises(CommandError, match=r"\$4.00 exceeds the threshold \$3.50") as error:
        call_command("cost_report", "--date", "2026-11-16", "--threshold", "3.50", client=client, stdout=out)
    assert error.value.returncode == 2
    assert "Amazon Relational Database Service" in out.getvalue() and "4.00" in out.getvalue()


def test_under_the_threshold_succeeds(ce):
    client, stubber = ce
    stub_month(stubber)
    call_command("cost_report", "--date", "2026-11-16", "--threshold", "5", client=client, stdout=StringIO())


def test_the_first_of_the_month_needs_no_call(ce):
    client, _ = ce
    out = StringIO()
    call_command("cost_report", "--date", "2026-12-01", "--json", "--threshold", "1", client=client, stdout=out)
    assert json.loads(out.getvalue())["projected_month_end"] == "0.00"


def test_a_cost_explorer_error_is_a_clear_failure(ce):
    client, stubber = ce
    stubber.add_client_error(
        "get_cost_and_usage", "AccessDeniedException", "not allowed", 400, expected_params=expected_request()
    )
    with pytest.raises(CommandError, match="Cost Explorer failed: .*AccessDenied") as error:
        call_command("cost_report", "--date", "2026-11-16", client=client, stdout=StringIO())
    assert error.value.returncode == 1
