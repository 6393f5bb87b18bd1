"""The audit log and X-Ray annotations, through Zappa's own handler (in process, REST API events).

Every line logged while a request is served carries its request id and user id, including the
``django.request`` lines Django writes after the middleware chain returned; the access line carries
route, status and duration; a sampled trace gets one subsegment annotated with both ids, sent to a
UDP socket standing in for Lambda's X-Ray daemon.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from core.logging import JsonFormatter, RequestIdFilter

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

ZAPPA_SETTINGS = """
API_STAGE = "dev"
PROJECT_NAME = "stackpro"
APP_MODULE = "stackpro.wsgi"
APP_FUNCTION = "application"
DJANGO_SETTINGS = None
DEBUG = False
LOG_LEVEL = None
BINARY_SUPPORT = False
CONTEXT_HEADER_MAPPINGS = {}
DOMAIN = None
ENVIRONMENT_VARIABLES = {}
EXCEPTION_HANDLER = None
AWS_EVENT_MAPPING = {}
"""


class Context:
    aws_request_id = "lambda-req-1"
    function_name = "stackpro-dev"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:stackpro-dev"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def rest_event(path: str, headers: dict[str, str]) -> dict:
    all_headers = {"Host": "api.stackpro.test", "X-Forwarded-Proto": "https", "Accept": "application/json", **headers}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": "GET",
            "path": "/dev" + path,
            "stage": "dev",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "203.0.113.7"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


@pytest.fixture
def zappa_handler(tmp_path, monkeypatch, settings):
    """Zappa's LambdaHandler serving stackpro.wsgi (imported here, before the test's log capture starts)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from zappa.handler import LambdaHandler

    import stackpro.wsgi  # noqa: F401 — Django's setup re-applies LOGGING once, outside the test

    # As Django's test client does: the test's transaction must survive the request boundary.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)

    settings.ALLOWED_HOSTS = ["api.stackpro.test"]
    (tmp_path / "audit_zappa_settings.py").write_text(ZAPPA_SETTINGS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(LambdaHandler, "_LambdaHandler__instance", None)
    environment = set(os.environ)
    LambdaHandler("audit_zappa_settings")
    yield LambdaHandler.lambda_handler
    for added in set(os.environ) - environment:  # Zappa sets SERVERTYPE, STAGE...: not for later tests
        del os.environ[added]
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def xray_daemon(monkeypatch):
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.settimeout(2)
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", f"127.0.0.1:{daemon.getsockname()[1]}")
    yield daemon
    daemon.close()


def lines_of(caplog) -> list[dict]:
    return [json.loads(JsonFormatter().format(record)) for record in caplog.records]


def test_every_line_of_a_request_carries_its_request_and_user_id(zappa_handler, user, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="stackpro.request")
    token = str(RefreshToken.for_user(user).access_token)
    context = Context()

    ok = zappa_handler(
        rest_event("/api/v1/projects/", {"Authorization": f"Bearer {token}", "X-Request-ID": "r-ok"}), context
    )
    missing = zappa_handler(rest_event("/api/v1/no-such-thing/", {"X-Request-ID": "r-404"}), context)
    denied = zappa_handler(
        rest_event("/api/v1/projects/", {"Authorization": "Bearer nope", "X-Request-ID": "r-401"}), context
    )
    assert (ok["statusCode"], missing["statusCode"], denied["statusCode"]) == (200, 404, 401)

    lines = lines_of(caplog)
    by_logger = {(line["logger"], line["request_id"]) for line in lines}
    # Django's own 4xx lines, logged after RequestIdMiddleware returned, still name their request.
    assert {("django.request", "r-404"), ("django.request", "r-401")} <= by_logger, lines
    assert not [line for line in lines if line["request_id"] == "-"], lines  # Zappa's Common Log line is off
    access = {line["request_id"]: line for line in lines if line["logger"] == "stackpro.request"}
    assert set(access) == {"r-ok", "r-404", "r-401"}
    assert access["r-ok"]["user_id"] == str(user.pk) and access["r-401"]["user_id"] == "-"
    assert (access["r-ok"]["route"], access["r-ok"]["status"]) == ("api/v1/projects/", 200)
    assert access["r-404"]["route"] == "unmatched" and access["r-401"]["status"] == 401
    assert all(isinstance(line["latency_ms"], float) for line in access.values())
    assert {line["lambda_request_id"] for line in access.values()} == {"lambda-req-1"}


def test_a_sampled_request_sends_one_annotated_subsegment_to_the_xray_daemon(
    zappa_handler, user, xray_daemon, monkeypatch
):
    root, parent = "1-67a1b2c3-0123456789abcdef01234567", "53995c3f42cd8ad8"
    token = str(RefreshToken.for_user(user).access_token)
    headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "r-traced"}

    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={root};Parent={parent};Sampled=0")
    assert zappa_handler(rest_event("/api/v1/projects/", headers), Context())["statusCode"] == 200
    with pytest.raises(TimeoutError):  # not sampled: nothing sent
        xray_daemon.settimeout(0.3)
        xray_daemon.recvfrom(65536)

    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={root};Parent={parent};Sampled=1")
    assert zappa_handler(rest_event("/api/v1/projects/", headers), Context())["statusCode"] == 200
    xray_daemon.settimeout(2)
    datagram, _ = xray_daemon.recvfrom(65536)
    header, _, body = datagram.partition(b"\n")
    assert json.loads(header) == {"format": "json", "version": 1}
    subsegment = json.loads(body)
    assert (subsegment["type"], subsegment["trace_id"], subsegment["parent_id"]) == ("subsegment", root, parent)
    assert subsegment["annotations"] == {"request_id": "r-traced", "user_id": str(user.pk), "route": "api/v1/projects/"}
    assert subsegment["http"]["response"]["status"] == 200 and "fault" not in subsegment
    assert 0 < subsegment["end_time"] - subsegment["start_time"] < 30
