"""Fixtures of the notifications tests: a failing mail provider, a signed-SNS sender, helpers."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from notifications import sns
from tests.notifications.backends import FlakyBackend

WEBHOOK_SECRET = "anymail-user:anymail-secret"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:stackpro-ses-events"


@pytest.fixture
def flaky_backend(settings: Any) -> Iterator[type[FlakyBackend]]:
    settings.EMAIL_BACKEND = "tests.notifications.backends.FlakyBackend"
    FlakyBackend.failures_left = 0
    yield FlakyBackend
    FlakyBackend.failures_left = 0


def _make_key_and_cert() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.test.local")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


class SnsSigner:
    """Plays Amazon SNS: serves its signing certificate over HTTP on loopback and signs messages."""

    def __init__(self, key: rsa.RSAPrivateKey, cert_url: str) -> None:
        self.key = key
        self.cert_url = cert_url

    def sign(self, message: dict[str, Any], *, version: str = "1") -> dict[str, Any]:
        message = {**message, "SignatureVersion": version, "SigningCertURL": self.cert_url}
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = self.key.sign(sns.string_to_sign(message), padding.PKCS1v15(), algorithm)
        message["Signature"] = base64.b64encode(signature).decode()
        return message

    def ses_notification(self, ses_event: dict[str, Any], **overrides: Any) -> dict[str, Any]:
        message_id = str(uuid.uuid4())
        message = {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": TOPIC_ARN,
            "Message": json.dumps(ses_event),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "UnsubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC_ARN}:abc",
            **overrides,
        }
        return self.sign(message)


@pytest.fixture(scope="session")
def _sns_certificate_server() -> Iterator[tuple[rsa.RSAPrivateKey, str]]:
    key, pem = _make_key_and_cert()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path.endswith(".pem"):
                self.send_response(200)
                self.send_header("Content-Type", "application/x-pem-file")
                self.end_headers()
                self.wfile.write(pem)
            else:
                self.send_response(404)
                self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield key, f"http://127.0.0.1:{server.server_address[1]}/SimpleNotificationService-test.pem"
    server.shutdown()
    server.server_close()


@pytest.fixture
def sns_signer(settings: Any, _sns_certificate_server: tuple[rsa.RSAPrivateKey, str]) -> SnsSigner:
    """Configure the webhook like production, except that the certificate comes from loopback."""
    key, cert_url = _sns_certificate_server
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    settings.NOTIFICATIONS_SNS_CERT_URL_REGEX = r"^http://127\.0\.0\.1:\d+/[^?#]+\.pem$"
    settings.NOTIFICATIONS_SES_TOPIC_ARNS = [TOPIC_ARN]
    return SnsSigner(key, cert_url)


def post_sns(client: Any, message: dict[str, Any], *, auth: str | None = WEBHOOK_SECRET) -> Any:
    headers = {
        "HTTP_X_AMZ_SNS_MESSAGE_TYPE": message.get("Type", ""),
        "HTTP_X_AMZ_SNS_MESSAGE_ID": message.get("MessageId", ""),
        "HTTP_X_AMZ_SNS_TOPIC_ARN": message.get("TopicArn", ""),
    }
    if auth:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return client.post(
        "/anymail/amazon_ses/tracking/",
        data=json.dumps(message),
        content_type="text/plain; charset=UTF-8",
        **headers,
    )
