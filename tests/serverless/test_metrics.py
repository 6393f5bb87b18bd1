"""CloudWatch EMF lines and the JSON request log: parsed the way CloudWatch would read them."""

from __future__ import annotations

import json
import logging

import pytest

from core import metrics
from core.logging import JsonFormatter, RequestIdFilter

pytestmark = pytest.mark.django_db


def emf_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def assert_valid_emf(record: dict) -> None:
    """The EMF specification's rules for one record."""
    meta = record["_aws"]
    assert isinstance(meta["Timestamp"], int) and meta["Timestamp"] > 1_600_000_000_000
    for directive in meta["CloudWatchMetrics"]:
        assert directive["Namespace"] == "StackPro"
        assert 1 <= len(directive["Metrics"]) <= 100
        for dimension_set in directive["Dimensions"]:
            assert len(dimension_set) <= 30
            for name in dimension_set:
                assert isinstance(record[name], str)
        for metric in directive["Metrics"]:
            assert isinstance(record[metric["Name"]], (int, float))
            assert metric["Unit"] in {"Milliseconds", "Count", "None"}


def test_each_request_prints_a_latency_record_with_its_route(api_client, settings, capsys):
    settings.METRICS_EMF = True
    response = api_client.get("/api/v1/health/", HTTP_X_REQUEST_ID="req-123")
    assert response.status_code == 200
    (record,) = emf_lines(capsys.readouterr().out)
    assert_valid_emf(record)
    assert record["Service"] == "api" and record["Route"] == "api/v1/health/"
    assert record["status"] == 200 and record["method"] == "GET" and record["request_id"] == "req-123"
    assert record["Latency"] >= 0 and record["Errors"] == 0 and record["ClientErrors"] == 0
    # The route is a property by default (no per-route metric bill); METRICS_DETAILED makes it a dimension.
    assert record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Service"]]
    settings.METRICS_DETAILED = True
    api_client.get("/api/v1/health/")
    (detailed,) = emf_lines(capsys.readouterr().out)
    assert_valid_emf(detailed)
    assert detailed["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Service"], ["Service", "Route"]]


def test_client_and_server_errors_are_counted(api_client, settings, capsys):
    settings.METRICS_EMF = True
    settings.ROOT_URLCONF = "tests.core.urls"
    api_client.get("/api/v1/nothing-here/")
    api_client.raise_request_exception = False
    api_client.get("/api/v1/test/error/boom/")
    missing, crashed = emf_lines(capsys.readouterr().out)
    assert (missing["Route"], missing["status"], missing["ClientErrors"], missing["Errors"]) == ("unmatched", 404, 1, 0)
    assert (crashed["Route"], crashed["status"], crashed["Errors"]) == ("api/v1/test/error/<str:kind>/", 500, 1)


def test_no_metric_lines_unless_enabled(api_client, settings, capsys):
    settings.METRICS_EMF = False
    api_client.get("/api/v1/health/")
    assert emf_lines(capsys.readouterr().out) == []


def test_the_request_log_line_carries_request_id_user_status_and_latency(auth_client, user, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO, logger="stackpro.request"):
        response = auth_client.get("/api/v1/auth/me/", HTTP_X_REQUEST_ID="abc-1")
    assert response.status_code == 200
    (record,) = [r for r in caplog.records if r.name == "stackpro.request"]
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "abc-1" and line["user_id"] == str(user.pk)
    assert line["status"] == 200 and line["method"] == "GET" and line["path"] == "/api/v1/auth/me/"
    assert isinstance(line["latency_ms"], float)


def test_emit_can_be_forced_and_rejects_unknown_dimensions(settings, capsys):
    settings.METRICS_EMF = False
    assert metrics.record_webhook(source="stripe", event_type="x", ok=True, latency_ms=1) is None
    written = metrics.emit({"InputTokens": (1200, "Count")}, dimensions={"Service": "assistant"}, force=True)
    (printed,) = emf_lines(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(written))
    with pytest.raises(ValueError):
        metrics.emf_record({"X": (1, "Count")}, dimensions={"Service": "a"}, dimension_sets=[["Service", "Nope"]])


def test_domain_helpers_emit_valid_records(settings, capsys):
    settings.METRICS_EMF = True
    metrics.record_ai_usage(
        model="claude-sonnet-4-5", input_tokens=1200, output_tokens=300, cost_usd=0.0081, properties={"user_id": "u1"}
    )
    metrics.record_webhook(source="stripe", event_type="invoice.paid", ok=False, latency_ms=42.0)
    metrics.record_work(kind="task", name="x.y", ok=True, duration_ms=3.5)
    ai, webhook, work = emf_lines(capsys.readouterr().out)
    for record in (ai, webhook, work):
        assert_valid_emf(record)
    assert (ai["Model"], ai["InputTokens"], ai["OutputTokens"], ai["AICostUSD"], ai["user_id"]) == (
        "claude-sonnet-4-5", 1200, 300, 0.0081, "u1",
    )  # fmt: skip
    assert (webhook["Source"], webhook["WebhookFailures"], webhook["event_type"]) == ("stripe", 1, "invoice.paid")
    assert (work["Service"], work["Name"], work["Duration"], work["Failures"]) == ("task", "x.y", 3.5, 0)


def test_the_default_metric_set_stays_small(settings, capsys):
    """Each metric name x dimension set is billed: keep the default catalogue at a dozen."""
    settings.METRICS_EMF = True
    metrics.record_request(method="GET", route="a/", status=200, latency_ms=1)
    metrics.record_ai_usage(model="m", input_tokens=1, output_tokens=1, cost_usd=0)
    metrics.record_webhook(source="stripe", event_type="x", ok=True, latency_ms=1)
    metrics.record_work(kind="task", name="t", ok=True, duration_ms=1)
    metrics.record_work(kind="job", name="j", ok=True, duration_ms=1)
    billed = {
        (record["Service"], metric["Name"], tuple(dims))
        for record in emf_lines(capsys.readouterr().out)
        for directive in record["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
        for dims in directive["Dimensions"]
    }
    assert len(billed) == 12


def test_properties_cannot_shadow_dimensions_or_values():
    record = metrics.emf_record(
        {"Latency": (5, "Milliseconds")},
        dimensions={"Service": "api"},
        properties={"Service": "evil", "Latency": "evil", "note": "kept"},
    )
    assert (record["Service"], record["Latency"], record["note"]) == ("api", 5, "kept")
