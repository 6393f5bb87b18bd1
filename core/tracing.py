"""AWS X-Ray without the SDK: one annotated subsegment per request, sent to Lambda's X-Ray daemon over UDP.

With active tracing (Zappa's ``xray_tracing``) Lambda puts the invocation's trace header in the
``_X_AMZN_TRACE_ID`` environment variable (``Root=...;Parent=...;Sampled=1``) and runs a daemon at
``AWS_XRAY_DAEMON_ADDRESS``. Lambda's own segment cannot be annotated, so each sampled request sends
one subsegment under it carrying the request id, user id and route as annotations (searchable:
``annotation.request_id = "..."`` in the X-Ray console). This is what aws-xray-sdk does for a Lambda
request, minus its import cost and patching (docs/performance.md has the figures behind the choice).
Without a sampled trace header (servers, tests, local runs) nothing is sent. A send never raises.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from typing import Any

_HEADER = b'{"format": "json", "version": 1}\n'
_socket: socket.socket | None = None


def trace_context() -> dict[str, str] | None:
    """Root, Parent and Sampled from the invocation's trace header, or None unless sampled."""
    header = os.environ.get("_X_AMZN_TRACE_ID", "")
    parts = dict(part.split("=", 1) for part in header.split(";") if "=" in part)
    if parts.get("Sampled") != "1" or not parts.get("Root") or not parts.get("Parent"):
        return None
    return parts


def daemon_address() -> tuple[str, int]:
    """``AWS_XRAY_DAEMON_ADDRESS`` is ``host:port`` or ``tcp:host:port udp:host:port``; we send UDP."""
    value = os.environ.get("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:2000")
    for item in value.split():
        if item.startswith("udp:") or ":" in item and not item.startswith("tcp:"):
            host, _, port = item.removeprefix("udp:").rpartition(":")
            return host, int(port)
    return "127.0.0.1", 2000


def request_subsegment(
    *, request_id: str, user_id: str, route: str, method: str, status: int, start: float, end: float
) -> dict[str, Any] | None:
    """The subsegment document for one request (epoch seconds), or None when the request is not sampled."""
    context = trace_context()
    if context is None:
        return None
    document: dict[str, Any] = {
        "type": "subsegment",
        "name": "django",
        "id": secrets.token_hex(8),
        "trace_id": context["Root"],
        "parent_id": context["Parent"],
        "start_time": start,
        "end_time": end,
        "annotations": {"request_id": request_id, "user_id": user_id, "route": route},
        "http": {"request": {"method": method}, "response": {"status": status}},
    }
    if status >= 500:
        document["fault"] = True
    elif status == 429:
        document["throttle"] = document["error"] = True
    elif status >= 400:
        document["error"] = True
    return document


def send(document: dict[str, Any]) -> bool:
    """One UDP datagram to the daemon; False (and nothing raised) if it could not be sent."""
    global _socket
    try:
        if _socket is None:
            _socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        _socket.sendto(_HEADER + json.dumps(document, separators=(",", ":")).encode(), daemon_address())
        return True
    except (OSError, ValueError):
        return False


def record_request(**fields: Any) -> dict[str, Any] | None:
    """Build and send the request's subsegment if the invocation is sampled; returns what was sent."""
    document = request_subsegment(**fields)
    if document is not None:
        send(document)
    return document
