"""core.lambda_handler serves the REST API's proxy events itself, not through Zappa's handler (whose
module imports werkzeug and boto3: docs/performance.md, cold start). Held to Zappa 0.63 here, in
process, for the same events: the WSGI environ is the one ``zappa.wsgi.create_wsgi_request`` builds
(plus ``LambdaHandler._create_lambda_wsgi_environ``'s keys), and the answer from the same Django app
is Zappa's — status, body, headers — except that each header comes once (Zappa 0.63 repeats every
Set-Cookie four times: ``Set-Cookie`` and ``set-cookie``, each with every cookie twice) and a
response without a body gets no invented ``Content-Type: text/plain``. The packaged handler's tests
drive the same code through the real package.
"""

from __future__ import annotations

import copy
import io
import json
import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.wsgi import get_wsgi_application

from core import lambda_handler as entry

SETTINGS = SimpleNamespace(
    API_STAGE="dev",
    DOMAIN=None,
    BINARY_SUPPORT=False,
    CONTEXT_HEADER_MAPPINGS={},
    BASE_PATH=None,
    DEBUG=False,
    EXCEPTION_HANDLER=None,
    DJANGO_SETTINGS="stackpro.settings.test",
)
CONTEXT = object()
HOST = "testserver"
EXECUTE_API = "abc123.execute-api.us-east-1.amazonaws.com"


def event(
    method: str = "GET",
    path: str = "/api/v1/health/",
    headers: dict[str, str] | None = None,
    multi: dict[str, list[str]] | None = None,
    query: dict[str, list[str]] | None = None,
    body: str | None = None,
    request_context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    all_headers = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443", **(headers or {})}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {**{k: [v] for k, v in all_headers.items()}, **(multi or {})},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": query,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": request_context
        or {"stage": "dev", "requestId": "r-1", "identity": {"sourceIp": "203.0.113.7"}},
        "body": body,
        "isBase64Encoded": False,
    }


EVENTS = {
    "get": event(),
    "query, repeated names, encoded path": event(
        path="/api/v1/projects/caf%C3%A9%20x/", query={"q": ["a b", "é"], "page": ["2"]}
    ),
    "post json": event("POST", "/api/v1/auth/token/", {"Content-Type": "application/json"}, body='{"a": "é"}'),
    "delete, no body": event("DELETE", "/api/v1/projects/x/"),
    "cookies over several lines, forwarded chain": event(
        headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7"},
        multi={"Cookie": ["a=1", "b=2"], "Accept": ["text/html", "application/json"]},
    ),
    "lowercase names": event("PUT", headers={"content-type": "text/plain", "x-request-id": "abc"}, body="hi"),
    "execute-api host": event(headers={"Host": EXECUTE_API}),
    "authorizer": event(request_context={"authorizer": {"principalId": "user-7"}, "identity": {"sourceIp": "1.2.3.4"}}),
    "iam identity": event(request_context={"identity": {"sourceIp": "1.2.3.4", "userArn": "arn:aws:iam::1:user/x"}}),
}


def zappas_environ(evt: dict[str, Any], script: str) -> dict[str, Any]:
    from zappa.wsgi import create_wsgi_request

    environ = create_wsgi_request(
        evt, script_name=script, base_path=None, trailing_slash=True, binary_support=False, context_header_mappings={}
    )
    environ.update({"HTTPS": "on", "wsgi.url_scheme": "https", "lambda.context": CONTEXT, "lambda.event": evt})
    return environ


def comparable(environ: dict[str, Any]) -> dict[str, Any]:
    out = dict(environ)
    out["wsgi.input"] = out["wsgi.input"].read()
    return out


@pytest.mark.parametrize("name", list(EVENTS))
def test_the_environ_is_the_one_zappa_builds(name):
    evt = EVENTS[name]
    script = entry.script_name(evt, SETTINGS)
    ours = entry.wsgi_environ(copy.deepcopy(evt), CONTEXT, script)
    theirs = zappas_environ(copy.deepcopy(evt), script)
    assert comparable(ours) == comparable(theirs)


def test_the_stage_prefix_is_zappas():
    assert entry.script_name(event(headers={"Host": EXECUTE_API}), SETTINGS) == "/dev"
    assert entry.script_name(event(), SETTINGS) == ""  # a custom domain: no stage in the path
    no_host = event()
    del no_host["headers"]["Host"]
    assert entry.script_name(no_host, SETTINGS) == "/dev"  # the console's test button
    assert entry.script_name(no_host, SimpleNamespace(**{**vars(SETTINGS), "DOMAIN": "api.example.com"})) == ""


def masked(name: str, value: str) -> str:
    """A header's value without what differs per request (its id, a new CSRF token)."""
    if name.lower() == "x-request-id":
        return "<id>"
    return re.sub(r"^( ?csrftoken=)[^;]+", r"\1<token>", value) if name.lower() == "set-cookie" else value


def normalized(headers: dict[str, list[str]]) -> dict[str, list[str]]:
    """multiValueHeaders without Zappa's repeats: one name per header (any case), each value once."""
    out: dict[str, list[str]] = {}
    for name, values in headers.items():
        seen = out.setdefault(name.lower(), [])
        seen.extend(v for v in (masked(name, v) for v in values) if v not in seen)
    return out


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setattr(entry._Function, "app", get_wsgi_application())
    monkeypatch.setattr(entry._Function, "settings", SETTINGS)
    return entry._Function.app


def zappas_answer(app: Any, evt: dict[str, Any]) -> dict[str, Any]:
    from zappa.handler import LambdaHandler
    from zappa.middleware import ZappaWSGIMiddleware
    from zappa.utilities import DEFAULT_TEXT_MIMETYPES

    handler = object.__new__(LambdaHandler)  # without __init__: no zappa_settings module here
    handler.settings, handler.app_type, handler.trailing_slash = SETTINGS, "wsgi", True
    handler.wsgi_app, handler._text_mimetypes = ZappaWSGIMiddleware(app), DEFAULT_TEXT_MIMETYPES
    return handler.handler(evt, CONTEXT)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "evt",
    [
        event(),  # JSON
        event(path="/api/v1/no-such-thing/"),  # 404 envelope
        event(path="/admin/login/", headers={"Accept": "text/html"}),  # HTML with a CSRF cookie
        event("POST", "/api/v1/auth/token/", {"Content-Type": "application/json"}, body="{"),  # 400
    ],
    ids=["json", "not found", "html and cookie", "bad json"],
)
def test_the_answer_is_zappas_without_its_repeated_headers(app, evt):
    ours = entry.serve_http(copy.deepcopy(evt), CONTEXT)
    theirs = zappas_answer(app, copy.deepcopy(evt))
    assert ours["statusCode"] == theirs["statusCode"]
    if evt["path"].startswith("/api/"):  # JSON (the admin's HTML carries a per-request CSRF token)
        assert json.loads(ours["body"]) == json.loads(theirs["body"])
    assert normalized(ours["multiValueHeaders"]) == normalized(theirs["multiValueHeaders"])
    assert all(len(values) == len(set(values)) for values in ours["multiValueHeaders"].values())
    assert {k.lower(): masked(k, v) for k, v in ours["headers"].items()} == {
        k.lower(): masked(k, v) for k, v in theirs["headers"].items() if k != "set-cookie"
    }


@pytest.mark.django_db
def test_each_cookie_is_set_once(app):
    answer = entry.serve_http(event(path="/admin/login/"), CONTEXT)
    cookies = [v for k, values in answer["multiValueHeaders"].items() if k.lower() == "set-cookie" for v in values]
    assert answer["statusCode"] == 200 and len(cookies) == 1 and cookies[0].strip().startswith("csrftoken="), answer


def test_a_response_that_is_not_text_is_a_json_500(monkeypatch):
    def binary(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [b"\xff\xfe"]

    monkeypatch.setattr(entry._Function, "app", binary)
    monkeypatch.setattr(entry._Function, "settings", SETTINGS)
    answer = entry.serve_http(event(), CONTEXT)
    assert answer["statusCode"] == 500 and json.loads(answer["body"])["code"] == "server_error"


def test_the_response_is_closed_and_the_body_read_whole():
    closed = []

    class Body:
        def __iter__(self):
            yield b"a"
            yield b"b"

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        write = start_response("201 Created", [("X-One", "1"), ("x-one", "2")])
        write(b"")
        return Body()

    status, headers, body = entry.run_wsgi(app, {"wsgi.input": io.BytesIO()})
    assert (status, headers, body, closed) == ("201 Created", [("X-One", "1"), ("x-one", "2")], b"ab", [True])
