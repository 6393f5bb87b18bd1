"""The email provider down (anymail's SES backend over HTTP to moto, behind a breakable proxy):
the in-app notification exists, the email row records the failure, the task retries within
bounded time per attempt, and the email is sent exactly once when SES is back — never lost.

Unit-level cases with a failing backend live in tests/notifications/test_sending.py (retried until
sent, retries stop at max_retries, a persistent failure requeued by the job) and
tests/notifications/test_ses_moto.py (SES rejecting the sender).
"""

from __future__ import annotations

import time

import boto3
import pytest
from celery.exceptions import Retry
from django.core import mail

from notifications.models import EmailDelivery, Notification
from notifications.services import notify
from notifications.tasks import send_email_delivery_task
from tests.fixtures.moto import ACCESS_KEY, REGION, SECRET_KEY
from tests.support.tcp_proxy import FaultyProxy
from tests.timing import assert_within, baseline

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.integration,
]

SES_TIMEOUT, SES_ATTEMPTS = 0.5, 2
CREDENTIALS = {"aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": SECRET_KEY, "region_name": REGION}


def sent_messages() -> list:
    from moto.ses.models import ses_backends

    return ses_backends["123456789012"][REGION].sent_messages


@pytest.fixture
def broken_ses(moto_s3_server, settings):
    """anymail's SES backend talking to the session's moto server through a FaultyProxy."""
    host, port = moto_s3_server.moto_url.rsplit(":", 1)
    proxy = FaultyProxy("127.0.0.1", int(port)).start()
    ses = boto3.client("sesv2", endpoint_url=moto_s3_server.moto_url, **CREDENTIALS)
    boto3.client("ses", endpoint_url=moto_s3_server.moto_url, **CREDENTIALS).verify_email_identity(
        EmailAddress="no-reply@stackpro.local"
    )
    # Warm moto up: its first send imports and parses for over a second, past our 0.5 s read timeout,
    # and botocore's second attempt would then send the mail twice (moto did accept the first). That
    # is real SES behaviour too — a timed-out send may have been accepted; SES has no idempotency
    # key — but not the fault under test here.
    ses.send_email(
        FromEmailAddress="no-reply@stackpro.local",
        Destination={"ToAddresses": ["warm-up@example.com"]},
        Content={"Simple": {"Subject": {"Data": "warm-up"}, "Body": {"Text": {"Data": "warm-up"}}}},
    )
    settings.EMAIL_BACKEND = "anymail.backends.amazon_ses.EmailBackend"
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "AMAZON_SES_CLIENT_PARAMS": {
            **CREDENTIALS,
            "endpoint_url": f"http://127.0.0.1:{proxy.port}",
            "config": {
                "connect_timeout": SES_TIMEOUT,
                "read_timeout": SES_TIMEOUT,
                "retries": {"total_max_attempts": SES_ATTEMPTS, "mode": "standard"},
            },
        },
    }
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.mark.parametrize("fault", [FaultyProxy.REFUSE, FaultyProxy.HANG])
def test_ses_down_keeps_the_notification_and_the_email_is_sent_once_it_is_back(
    fault, broken_ses, user, django_capture_on_commit_callbacks
):
    # A healthy send through the same client, proxy and moto: the baseline of the bound below.
    base = baseline(lambda: mail.send_mail("baseline", "body", "no-reply@stackpro.local", ["base@example.com"]))
    before = len(sent_messages())
    broken_ses.set_mode(fault)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = notify(user=user, category="billing", title="Your payment failed")
    delivery = EmailDelivery.objects.get(notification=notification)
    assert len(callbacks) == 1  # the task is queued after commit

    started = time.monotonic()
    with pytest.raises(Retry) as retry:  # a worker runs the queued task; SES is down
        send_email_delivery_task.apply(args=[str(delivery.pk)], throw=True)
    elapsed = time.monotonic() - started
    assert retry.value.when is not None  # retried after a (jittered) backoff, not dropped
    # Bounded by the SES client config: each attempt waits at most its connect and read timeouts.
    assert_within(elapsed, waits=SES_ATTEMPTS * 2 * SES_TIMEOUT, base=base, what=fault)
    delivery.refresh_from_db()
    assert delivery.status == EmailDelivery.Status.FAILED and delivery.attempts == 1
    assert delivery.last_error  # what went wrong, for the admin
    assert Notification.objects.filter(pk=notification.pk, user=user).exists()  # the in-app part
    assert len(sent_messages()) == before

    # SES is back: the retry (the task republished after its countdown) sends it, exactly once.
    broken_ses.heal()
    assert send_email_delivery_task.apply(args=[str(delivery.pk)], retries=1).get() == "sent"
    assert send_email_delivery_task.apply(args=[str(delivery.pk)], retries=2).get() == "not_claimed"
    delivery.refresh_from_db()
    assert delivery.status == EmailDelivery.Status.SENT and delivery.attempts == 2
    assert delivery.provider_message_id
    sent = sent_messages()[before:]
    assert len(sent) == 1 and sent[0].id == delivery.provider_message_id
