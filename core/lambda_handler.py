"""The Lambda entry point (Zappa's ``lambda_handler`` setting).

- **REST API requests are served here**, not by Zappa's handler: the API Gateway proxy event (v1)
  becomes the WSGI environ Zappa's ``create_wsgi_request`` builds (tests/serverless/test_http_adapter.py
  holds the two to the same environ for the same events), Django answers, and the answer goes back
  as ``statusCode``/``body``/``headers``/``multiValueHeaders`` (each header once, as Django set it;
  Zappa 0.63 repeats every Set-Cookie four times). Zappa's handler module imports werkzeug and,
  through ``zappa.utilities``, boto3 — 70-80 ms of every plain cold start (with the admin's and the
  webhooks' URLs loaded on first use, stackpro/urls.py) that a request never uses.
- **Every other event** (HTTP API v2, scheduled jobs, keep-warm, SQS batches, ``manage`` commands)
  goes to Zappa's handler, imported on the first such event (at init when it is snapshotted). So
  does every event when zappa_settings.json asks for what the adapter does not do (binary support,
  a base path, context header mappings, a remote environment, the slim handler, an exception
  handler).
- Init is what Zappa's ``LambdaHandler.__init__`` does for this project: the settings Zappa wrote
  (``zappa_settings.py``), its environment variables, the Django app (``app_function``); at import
  with ``INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT``, as Zappa's. It runs with the cyclic garbage
  collector off and ends by freezing what it built (``gc.freeze``): see ``init``.
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

import gc
import importlib
import io
import json
import logging
import os
import sys
from typing import Any
from urllib.parse import unquote, urlencode

logger = logging.getLogger("stackpro.lambda")

SNAPSHOTTED_INITS = {"snap-start", "provisioned-concurrency"}
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")  # Zappa sets CONTENT_TYPE/LENGTH for these only


class UnmappedEventSource(RuntimeError):
    """An SQS batch from a queue the package's event mapping does not name."""


class _Function:
    """The Zappa settings module and the WSGI app, loaded once per environment."""

    settings: Any = None
    app: Any = None
    serves_http = False


def init() -> None:
    """Zappa's ``LambdaHandler.__init__`` for a Django app: log level, the environment, the app.

    Init allocates ~270,000 objects (Django's models, dj-stripe's ~100, stripe's typed params, Zappa's
    handler when snapshotted) and frees almost none: the cyclic collector's passes over them cost
    ~100 ms of a ~600 ms init. It is off during init, which ends by freezing everything it built:
    later collections skip those objects, and the first request starts with empty young
    generations (a collection that had counted init's garbage would otherwise run during it, ~1.5 ms)."""
    if _Function.app is not None:
        return
    collecting = gc.isenabled()
    gc.disable()
    try:
        _load()
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def _load() -> None:
    settings = importlib.import_module("zappa_settings")
    if settings.LOG_LEVEL:
        logging.getLogger().setLevel(logging.getLevelName(settings.LOG_LEVEL))
    os.environ.update({"SERVERTYPE": "AWS Lambda", "FRAMEWORK": "Zappa"})
    os.environ.update({"PROJECT": settings.PROJECT_NAME, "STAGE": settings.API_STAGE})
    os.environ.update(settings.ENVIRONMENT_VARIABLES)
    if settings.DJANGO_SETTINGS:
        os.environ["DJANGO_SETTINGS_MODULE"] = settings.DJANGO_SETTINGS
    _Function.serves_http = adapter_applies(settings)
    if not _Function.serves_http:  # Zappa's handler does all of it (and may need to before the app)
        _zappa()
    _Function.app = getattr(importlib.import_module(settings.APP_MODULE), settings.APP_FUNCTION)
    _Function.settings = settings
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") in SNAPSHOTTED_INITS:
        _zappa()  # free in a snapshot: the first scheduled job or SQS batch after a restore pays nothing


def adapter_applies(settings: Any) -> bool:
    """Whether the settings ask only for what ``serve_http`` does."""
    return not (
        settings.BINARY_SUPPORT
        or getattr(settings, "BASE_PATH", None)
        or settings.CONTEXT_HEADER_MAPPINGS
        or getattr(settings, "REMOTE_ENV", None)
        or getattr(settings, "SLIM_HANDLER", False)
        or getattr(settings, "ARCHIVE_PATH", None)
        or getattr(settings, "APP_TYPE", None) == "asgi"
        or settings.EXCEPTION_HANDLER
        or not settings.DJANGO_SETTINGS
    )


def _zappa() -> Any:
    """Zappa's ``LambdaHandler`` (the copy at the package root, which its keep-warm callback imports)."""
    try:
        from handler import LambdaHandler  # type: ignore[import-not-found]
    except ImportError:  # outside the package
        from zappa.handler import LambdaHandler
    return LambdaHandler


def lambda_handler(event: Any, context: Any) -> Any:
    init()
    if isinstance(event, dict):
        pin_client_ip(event)
        if _Function.serves_http and is_rest_request(event):
            return serve_http(event, context)
    result = _zappa().lambda_handler(event, context)
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


# ------------------------------------------------------------------------------------------------
# REST API (API Gateway v1 proxy) requests
# ------------------------------------------------------------------------------------------------
def is_rest_request(event: dict[str, Any]) -> bool:
    """What Zappa's handler serves as a v1 HTTP request (not an HTTP API v2 or a load balancer's)."""
    context = event.get("requestContext")
    return bool(event.get("httpMethod")) and event.get("version") != "2.0" and not (context or {}).get("elb")


def script_name(event: dict[str, Any], settings: Any) -> str:
    """The stage prefix Zappa gives Django: on the ``execute-api`` host (and for a request without a
    Host, the console's test button, unless a domain is configured), where paths carry the stage."""
    host = (event.get("headers") or {}).get("Host")
    if host:
        return f"/{settings.API_STAGE}" if "amazonaws.com" in host else ""
    return "" if settings.DOMAIN else f"/{settings.API_STAGE}"


def wsgi_environ(event: dict[str, Any], context: Any, script: str) -> dict[str, Any]:
    """The WSGI environ Zappa builds for a v1 proxy event (``zappa.wsgi.create_wsgi_request`` with
    this project's settings, plus ``LambdaHandler._create_lambda_wsgi_environ``'s keys)."""
    headers = {name.title(): value for name, value in merged_headers(event).items()}
    method = event["httpMethod"]
    if "multiValueQueryStringParameters" in event:
        query = event["multiValueQueryStringParameters"]
        query_string = urlencode(query, doseq=True) if query else ""
    else:
        query = event.get("queryStringParameters", {})
        query_string = urlencode(query) if query else ""
    authorizer = remote_user = None
    if "requestContext" in event:
        authorizer = event["requestContext"].get("authorizer", None)
        if authorizer:
            remote_user = authorizer.get("principalId")
        elif event["requestContext"].get("identity"):
            remote_user = event["requestContext"]["identity"].get("userArn")
    body = event.get("body")
    body = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    forwarded = headers.get("X-Forwarded-For", "")
    remote_addr = [a.strip() for a in forwarded.split(",")][-2] if "," in forwarded else forwarded or "127.0.0.1"
    path = _wsgi_string(unquote(event["path"]))
    environ: dict[str, Any] = {
        "PATH_INFO": path[len(script) :] if script and path.startswith(script) else path,
        "QUERY_STRING": _wsgi_string(query_string),
        "REMOTE_ADDR": remote_addr,
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": script,
        "SERVER_NAME": "zappa",
        "SERVER_PORT": headers.get("X-Forwarded-Port", "80"),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multiprocess": False,
        "wsgi.multithread": False,
        "wsgi.run_once": False,
        "HTTPS": "on",
        "lambda.context": context,
        "lambda.event": event,
    }
    if authorizer:
        environ["API_GATEWAY_AUTHORIZER"] = authorizer
    if method in BODY_METHODS:
        if "Content-Type" in headers:
            environ["CONTENT_TYPE"] = headers["Content-Type"]
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = str(value)
    if remote_user:
        environ["REMOTE_USER"] = remote_user
    return environ


def merged_headers(event: dict[str, Any]) -> dict[str, str]:
    """``headers`` and ``multiValueHeaders`` as one value per name (Zappa's ``merge_headers``)."""
    multi = dict(event.get("multiValueHeaders") or {})
    for name, value in (event.get("headers") or {}).items():
        multi.setdefault(name, [value])
    return {name: ("; " if name.lower() == "cookie" else ", ").join(values) for name, values in multi.items()}


def _wsgi_string(text: str) -> str:
    return text.encode("utf-8").decode("iso-8859-1")


def serve_http(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run one REST API request through the app and answer API Gateway."""
    for name, value in (event.get("stageVariables") or {}).items():
        os.environ[name] = value  # as Zappa does
    try:
        status, headers, body = run_wsgi(
            _Function.app, wsgi_environ(event, context, script_name(event, _Function.settings))
        )
        answer: dict[str, Any] = {"statusCode": int(status.split(" ", 1)[0])}
        if body:
            answer["body"] = body.decode("utf-8")
    except Exception:  # not an answer from Django (it turns its own errors into responses)
        logger.exception("the request could not be served")
        from core.exceptions import error_body  # the API's one error envelope (Django is set up by now)

        body = json.dumps(error_body("server_error", "An unexpected error occurred."))
        return {"statusCode": 500, "headers": {"Content-Type": "application/json"}, "body": body}
    if "headers" in event:
        answer["headers"] = dict(headers)
    if "multiValueHeaders" in event:
        grouped: dict[str, list[str]] = {}
        names: dict[str, str] = {}
        for name, value in headers:
            grouped.setdefault(names.setdefault(name.lower(), name), []).append(value)
        answer["multiValueHeaders"] = grouped
    return answer


def run_wsgi(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call a WSGI app: its status, headers and whole body; the response is closed (Django's
    ``request_finished``: connections are returned or closed there)."""
    started: list[Any] = []
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [status, list(headers)]
        return chunks.append

    response = app(environ, start_response)
    try:
        chunks.extend(response)
    finally:
        close = getattr(response, "close", None)
        if close is not None:
            close()
    return started[0], started[1], b"".join(chunks)


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


if os.environ.get("INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT"):
    init()
