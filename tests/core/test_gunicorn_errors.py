"""Requests gunicorn refuses before Django (deploy/gunicorn_conf.py) get the API's JSON error body, not HTML.

Found by the full fuzz run (seed 11): a query string of 5 KB was answered by gunicorn's HTML page
"Request Line is too large (5184 > 4094)" where the schema documents a JSON 400.
"""

import json
import socket
from urllib.parse import urlsplit

import pytest

from tests.servers import gunicorn, http

pytestmark = pytest.mark.slow


def raw_request(base: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def test_gunicorns_own_refusals_are_json_errors(transactional_db):
    with gunicorn({}, settings="stackpro.settings.test") as base:
        too_long = b"GET /api/v1/projects/?q=" + b"x" * 5000 + b" HTTP/1.1\r\nHost: t\r\n\r\n"
        garbled = b"NOT A REQUEST LINE\r\n\r\n"
        for request in (too_long, garbled):
            status, headers, body = raw_request(base, request)
            assert status == 400
            assert headers["content-type"] == "application/json"
            error = json.loads(body)
            assert error["code"] == "bad_request" and error["message"], error
            assert int(headers["content-length"]) == len(body)


def test_the_server_header_names_no_software_version(transactional_db):
    """Under Django's test client no Server header exists at all, so this is checked where one does:
    the deployed server's answers (a success, a Django 404 and gunicorn's own refusal)."""
    with gunicorn({}, settings="stackpro.settings.test") as base:
        answers = [http("GET", f"{base}/api/v1/health/")[1], http("GET", f"{base}/api/v1/nope/")[1]]
        answers.append(raw_request(base, b"NOT A REQUEST LINE\r\n\r\n")[1])
        for headers in answers:
            server = headers.get("server", "")
            assert server in ("", "gunicorn"), server  # never a version, never Python's
