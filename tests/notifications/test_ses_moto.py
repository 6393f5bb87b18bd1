"""The production path: anymail's Amazon SES backend (boto3 sesv2) over HTTP against a moto server."""

from __future__ import annotations

import email
from collections.abc import Iterator

import boto3
import pytest
from django.core import mail

from notifications.models import EmailDelivery
from notifications.services import notify
from tests.servers import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.integration]
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def ses(settings, moto_endpoint):
    settings.EMAIL_BACKEND = "anymail.backends.amazon_ses.EmailBackend"
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "AMAZON_SES_CLIENT_PARAMS": {**CREDENTIALS, "endpoint_url": moto_endpoint},
    }
    client = boto3.client("ses", endpoint_url=moto_endpoint, **CREDENTIALS)
    client.verify_email_identity(EmailAddress="no-reply@stackpro.local")
    return client


def _sent_messages() -> list:
    from moto.ses.models import ses_backends

    return ses_backends["123456789012"]["us-east-1"].sent_messages


def test_notification_email_goes_through_ses(ses, user, django_capture_on_commit_callbacks):
    before = len(_sent_messages())
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, category="project", title="Added to Apollo", link="/projects/apollo")

    delivery = EmailDelivery.objects.get()
    assert delivery.status == EmailDelivery.Status.SENT, delivery.last_error
    assert delivery.provider_message_id  # SES's MessageId, matched later by bounce events
    assert mail.outbox == []  # not the locmem backend
    sent = _sent_messages()[before:]
    assert len(sent) == 1
    assert sent[0].id == delivery.provider_message_id
    mime = email.message_from_string(sent[0].raw_data)
    assert mime["To"] == user.email
    assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unfolded = " ".join(str(mime["List-Unsubscribe"]).split())  # long headers are folded on the wire
    assert unfolded.startswith("<http://localhost:8000/api/v1/notifications/unsubscribe/")
    assert {part.get_content_type() for part in mime.walk()} >= {"text/plain", "text/html"}
    assert ses.get_send_quota()["SentLast24Hours"] >= 1


def test_ses_rejection_is_recorded_and_retried(ses, settings, user, django_capture_on_commit_callbacks):
    settings.DEFAULT_FROM_EMAIL = "StackPro <unverified@stackpro.local>"  # SES refuses the sender
    from celery.exceptions import Retry

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(user=user, category="billing", title="Payment failed")
    with pytest.raises(Retry):
        callbacks[0]()  # captured callbacks are called directly (not robustly) here
    delivery = EmailDelivery.objects.get()
    assert delivery.status == EmailDelivery.Status.FAILED
    assert "authority to send" in delivery.last_error
