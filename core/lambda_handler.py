"""The Lambda entry point (Zappa's ``lambda_handler`` setting): Zappa's handler, with two corrections.

- The client's address is the one API Gateway saw (``requestContext.identity.sourceIp`` on a REST
  API, ``requestContext.http.sourceIp`` on an HTTP API). Zappa makes ``REMOTE_ADDR`` the
  second-to-last ``X-Forwarded-For`` entry, which the client writes itself on a regional endpoint;
  here every ``X-Forwarded-For`` the event carries is replaced by the source address alone, so
  ``REMOTE_ADDR`` is that address and throttles key on it (``NUM_PROXIES`` stays 0 on Lambda).
- An SQS batch whose queue is not in Zappa's event mapping (a renamed queue, a placeholder account
  id in zappa_settings.json) is a failure, not a success: Zappa logs "Cannot find a function" and
  returns None, which Lambda takes as success and SQS deletes the batch. Here the invocation
  raises, so the messages come back after the visibility timeout and end in the dead-letter queue,
  and the error names the queue's ARN.
"""

from __future__ import annotations

import logging
from typing import Any

try:  # the copy of Zappa's handler at the package root (its keep-warm callback imports that one too)
    from handler import LambdaHandler  # type: ignore[import-not-found]
except ImportError:  # outside the package
    from zappa.handler import LambdaHandler

logger = logging.getLogger("stackpro.lambda")


class UnmappedEventSource(RuntimeError):
    """An SQS batch from a queue the package's event mapping does not name."""


def lambda_handler(event: Any, context: Any) -> Any:
    if isinstance(event, dict):
        pin_client_ip(event)
    result = LambdaHandler.lambda_handler(event, context)
    records = _sqs_records(event)
    if result is None and records:
        arns = sorted({record.get("eventSourceARN", "?") for record in records})
        logger.error(
            "SQS batch of %d messages from an unmapped queue %s: failing the invocation so nothing is deleted",
            len(records),
            ", ".join(arns),
        )
        raise UnmappedEventSource(f"no function for the event source {', '.join(arns)}")
    return result


def _sqs_records(event: Any) -> list[dict[str, Any]]:
    """The records of an SQS batch event (none for any other event)."""
    records = event.get("Records") if isinstance(event, dict) else None
    if (
        isinstance(records, list)
        and records
        and all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)
    ):
        return records
    return []


def source_ip(event: dict[str, Any]) -> str | None:
    """The address API Gateway saw: v1 (REST) ``identity.sourceIp``, v2 (HTTP API) ``http.sourceIp``."""
    context = event.get("requestContext")
    if not isinstance(context, dict):
        return None
    for part in ("identity", "http"):
        ip = (context.get(part) or {}).get("sourceIp")
        if ip:
            return str(ip)
    return None


def pin_client_ip(event: dict[str, Any]) -> None:
    """Replace an HTTP event's X-Forwarded-For (any case, single and multi-value) by the source address."""
    if "requestContext" not in event or ("httpMethod" not in event and "rawPath" not in event):
        return
    ip = source_ip(event)
    for field in ("headers", "multiValueHeaders"):
        headers = event.get(field)
        if isinstance(headers, dict):
            for name in [name for name in headers if name.lower() == "x-forwarded-for"]:
                del headers[name]
    if ip:
        name = "x-forwarded-for" if event.get("version") == "2.0" else "X-Forwarded-For"
        if isinstance(event.get("headers"), dict) or event.get("headers") is None:
            event["headers"] = {**(event.get("headers") or {}), name: ip}
        if isinstance(event.get("multiValueHeaders"), dict):
            event["multiValueHeaders"][name] = [ip]
