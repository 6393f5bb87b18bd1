"""gunicorn settings for a server deployment: ``gunicorn -c python:deploy.gunicorn_conf stackpro.wsgi``.

Requests gunicorn refuses before Django sees them (a request line over ``limit_request_line``, 4094
bytes by default; headers too many or too large; a malformed request line) get gunicorn's own answer,
an HTML page — on an API whose every error is the JSON body ``{code, message}`` (found by the full
fuzz run: a query string of 5 KB came back ``text/html``). This configuration makes gunicorn write
those answers in the API's error body, with the same status. Workers, threads and timeouts stay on
the command line (docs/performance.md).

gunicorn reads this module in the master process, before forking; its workers call
``gunicorn.util.write_error`` through the module, so replacing it here covers every worker class.

A server worker lives for hours, so it also imports the anthropic SDK as it starts
(``post_worker_init``): about a second of imports that its first assistant send would pay otherwise.
On Lambda the SDK is imported on first use instead, because most cold starts never need it
(``assistant.claude``).
"""

from __future__ import annotations

import json
import socket

from gunicorn import util

# gunicorn's reasons (gunicorn/workers/base.py ``handle_error``) as the API's error codes.
ERROR_CODES = {
    400: "bad_request",
    403: "permission_denied",
    431: "request_header_fields_too_large",
    500: "server_error",
    501: "not_implemented",
}


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error``, answering with the API's JSON error body."""
    body = json.dumps(
        {"code": ERROR_CODES.get(status_int, "bad_request"), "message": mesg or reason}, ensure_ascii=True
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode("latin1")
    util.write_nonblock(sock, head + body)


util.write_error = write_json_error


def post_worker_init(worker: object) -> None:
    """After the worker has loaded the app (Django is set up): import the assistant's SDK now."""
    from assistant.claude import load_sdk

    load_sdk()
