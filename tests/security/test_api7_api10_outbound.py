"""API7 Server-side request forgery and API10 Unsafe consumption of APIs: outbound calls go only to
configured services, with bounded time, and what comes back is verified before it is trusted.

The one URL the API fetches on a client's word is an SNS message's ``SigningCertURL`` (the SES
bounce webhook). These tests post signed messages through the real webhook route with certificate
URLs an attacker would choose, and watch a loopback "attacker" server: it must never be asked.
Redirect targets (checkout, portal) are the other URLs taken from input; they are never fetched, only
handed to Stripe, and must stay on the frontend's origins.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.conf import settings as django_settings

from notifications.models import SuppressedAddress
from tests.notifications.conftest import _sns_certificate_server, post_sns, sns_signer  # noqa: F401 (fixtures)
from tests.notifications.test_bounces import bounce_event

API_GATEWAY_TIMEOUT = 29  # seconds: any upstream wait must end well before it
PRODUCTION_CERT_URL_REGEX = r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[^?#]+\.pem$"


class Recorder:
    """A loopback HTTP server that records every request it gets; it answers with ``answer``."""

    def __init__(self, answer: Any) -> None:
        self.paths: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                recorder.paths.append(self.path)
                status, headers, body = answer(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def attacker() -> Iterator[Recorder]:
    server = Recorder(lambda path: (200, {"Content-Type": "application/x-pem-file"}, b"not a certificate"))
    yield server
    server.stop()


def test_upstream_timeouts_end_before_api_gateway_gives_up():
    assert 0 < django_settings.STRIPE_TIMEOUT_SECONDS < API_GATEWAY_TIMEOUT
    assert 0 < django_settings.ANTHROPIC_TIMEOUT_SECONDS < API_GATEWAY_TIMEOUT
    for option in ("connect_timeout", "read_timeout", "write_timeout"):
        value = django_settings.DATABASES["default"].get("OPTIONS", {}).get(option)
        assert value is None or value < API_GATEWAY_TIMEOUT


def test_the_shipped_certificate_url_allowlist_is_amazons():
    assert django_settings.NOTIFICATIONS_SNS_CERT_URL_REGEX == PRODUCTION_CERT_URL_REGEX


@pytest.mark.django_db
@pytest.mark.parametrize(
    "template",
    [
        "http://127.0.0.1:{port}/SimpleNotificationService-x.pem",  # IP literal
        "https://127.0.0.1:{port}/SimpleNotificationService-x.pem",
        "http://localhost:{port}/SimpleNotificationService-x.pem",
        "https://[::1]:{port}/SimpleNotificationService-x.pem",  # IPv6 literal
        "https://2130706433:{port}/SimpleNotificationService-x.pem",  # 127.0.0.1 as an integer
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",  # not TLS
        "https://sns.us-east-1.amazonaws.com.127.0.0.1.nip.io/x.pem",  # look-alike host
        "https://sns.us-east-1.amazonaws.com@127.0.0.1:{port}/x.pem",  # userinfo trick
        "https://127.0.0.1:{port}/sns.us-east-1.amazonaws.com/x.pem",  # the name in the path
        "https://sns.us-east-1.amazonaws.com/x.pem?@127.0.0.1:{port}/",  # a query after the name
        "file:///etc/passwd#.pem",
    ],
)
def test_certificate_urls_off_the_allowlist_are_never_fetched(client, settings, sns_signer, user, attacker, template):  # noqa: F811
    settings.NOTIFICATIONS_SNS_CERT_URL_REGEX = PRODUCTION_CERT_URL_REGEX
    message = sns_signer.ses_notification(bounce_event(user.email))
    message["SigningCertURL"] = template.format(port=attacker.port)

    response = post_sns(client, message)

    assert response.status_code == 400
    assert attacker.paths == []
    assert not SuppressedAddress.objects.filter(email=user.email).exists()


@pytest.mark.django_db
def test_a_redirect_from_an_allowed_certificate_url_is_not_followed(client, settings, sns_signer, user):  # noqa: F811
    """The allowed host answers with a redirect to another host that serves the *right* certificate:
    following it would let whoever controls a redirect on the allowed host choose the key."""
    good_cert = sns_signer.cert_url  # served by the notifications tests' loopback "SNS"
    redirector = Recorder(lambda path: (302, {"Location": good_cert}, b""))
    try:
        settings.NOTIFICATIONS_SNS_CERT_URL_REGEX = rf"^http://127\.0\.0\.1:{redirector.port}/[^?#]+\.pem$"
        message = sns_signer.ses_notification(bounce_event(user.email))  # signed by the key of good_cert
        message["SigningCertURL"] = f"http://127.0.0.1:{redirector.port}/SimpleNotificationService-r.pem"

        response = post_sns(client, message)

        assert redirector.paths == ["/SimpleNotificationService-r.pem"]  # asked once, redirect refused
        assert response.status_code == 400
        assert not SuppressedAddress.objects.filter(email=user.email).exists()
    finally:
        redirector.stop()


def test_stripe_webhooks_are_verified_by_signature():
    assert django_settings.DJSTRIPE_WEBHOOK_VALIDATION == "verify_signature"
