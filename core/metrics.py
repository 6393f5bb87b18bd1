"""CloudWatch Embedded Metric Format (EMF): metrics written as JSON log lines, no agent or network call.

On Lambda every line a function prints goes to CloudWatch Logs, which turns a line carrying an
``_aws`` block into metrics (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
Emission is on when ``settings.METRICS_EMF`` is true (the default on Lambda); otherwise the helpers
do nothing, so local runs and tests stay quiet unless they ask.

Every metric name x dimension combination is a billed custom metric ($0.30/month each after the
first 10), so by default each helper publishes its few metrics under ``Service`` only (12 metrics in
all) and keeps the detail (route, model, webhook source, task/job name) as a property, searchable in
Logs Insights (``stats pct(Latency, 95) by Route``) at no metric cost. ``settings.METRICS_DETAILED``
adds the per-detail dimension set (about $0.30 per route/model/task per metric per month).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any

NAMESPACE = "StackPro"
SERVICE = "api"

# A metric value and its CloudWatch unit, e.g. (12.5, "Milliseconds") or (1, "Count").
Metric = tuple[float, str]


def enabled() -> bool:
    from django.conf import settings

    return settings.METRICS_EMF


def detailed() -> bool:
    from django.conf import settings

    return settings.METRICS_DETAILED


def _sets(detail: str) -> list[list[str]]:
    return [["Service"], ["Service", detail]] if detailed() else [["Service"]]


def emf_record(
    metrics: Mapping[str, Metric],
    *,
    dimensions: Mapping[str, str],
    dimension_sets: Iterable[Iterable[str]] | None = None,
    properties: Mapping[str, Any] | None = None,
    namespace: str = NAMESPACE,
    timestamp_ms: int | None = None,
) -> dict[str, Any]:
    """One EMF object: the ``_aws`` metadata, the dimension values, the metric values and properties."""
    sets = [list(s) for s in dimension_sets] if dimension_sets is not None else [list(dimensions)]
    for dimension_set in sets:
        missing = [name for name in dimension_set if name not in dimensions]
        if missing:
            raise ValueError(f"dimension set names unknown dimensions: {missing}")
    record: dict[str, Any] = {
        "_aws": {
            "Timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": sets,
                    "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in metrics.items()],
                }
            ],
        }
    }
    # Properties first, so a property can never shadow a dimension or metric value.
    for key, value in (properties or {}).items():
        record[key] = value
    record.update(dimensions)
    for name, (value, _) in metrics.items():
        record[name] = value
    return record


def emit(
    metrics: Mapping[str, Metric],
    *,
    dimensions: Mapping[str, str],
    dimension_sets: Iterable[Iterable[str]] | None = None,
    properties: Mapping[str, Any] | None = None,
    force: bool = False,
) -> dict[str, Any] | None:
    """Print one EMF line to stdout (when enabled, or ``force``); returns the record written."""
    if not (force or enabled()):
        return None
    record = emf_record(metrics, dimensions=dimensions, dimension_sets=dimension_sets, properties=properties)
    sys.stdout.write(json.dumps(record, default=str, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    return record


def record_request(
    *, method: str, route: str, status: int, latency_ms: float, properties: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """Latency of one HTTP request, and whether it was a client (4xx) or server (5xx) error."""
    return emit(
        {
            "Latency": (latency_ms, "Milliseconds"),  # its SampleCount is the request count
            "ClientErrors": (1 if 400 <= status < 500 else 0, "Count"),
            "Errors": (1 if status >= 500 else 0, "Count"),
        },
        dimensions={"Service": SERVICE, "Route": route},
        dimension_sets=_sets("Route"),
        properties={"method": method, "status": status, **(properties or {})},
    )


def record_ai_usage(
    *,
    model: str,
    input_tokens: int,
    output_tokens: int,
    cost_usd: float,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    properties: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Tokens and cost of one model call (the assistant app calls this after each response)."""
    return emit(
        {
            "InputTokens": (input_tokens, "Count"),
            "OutputTokens": (output_tokens, "Count"),
            "AICostUSD": (round(cost_usd, 6), "None"),
        },
        dimensions={"Service": "assistant", "Model": model},
        dimension_sets=_sets("Model"),
        properties={
            "cache_read_tokens": cache_read_tokens,
            "cache_write_tokens": cache_write_tokens,
            **(properties or {}),
        },
    )


def record_webhook(
    *, source: str, event_type: str, ok: bool, latency_ms: float, properties: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """One processed webhook (Stripe, SES...): latency and failure count per source."""
    return emit(
        {
            "WebhookLatency": (latency_ms, "Milliseconds"),
            "WebhookFailures": (0 if ok else 1, "Count"),
        },
        dimensions={"Service": "webhooks", "Source": source},
        dimension_sets=_sets("Source"),
        properties={"event_type": event_type, **(properties or {})},
    )


def record_work(
    *, kind: str, name: str, ok: bool, duration_ms: float, properties: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """One background unit of work: ``kind`` is "task" (SQS) or "job" (schedule)."""
    return emit(
        {
            "Duration": (duration_ms, "Milliseconds"),
            "Failures": (0 if ok else 1, "Count"),
        },
        dimensions={"Service": kind, "Name": name},
        dimension_sets=_sets("Name"),
        properties=properties,
    )
