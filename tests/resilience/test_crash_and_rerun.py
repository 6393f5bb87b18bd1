"""A task or webhook that crashes half-way runs again to the same result (idempotent).

- a Stripe webhook whose reaction fails after its first writes: 5xx, everything rolled back;
  Stripe's retry does it once; further deliveries do nothing;
- the email task whose worker dies after claiming the row: no second send while the claim is
  fresh, sent once after the claim timeout (by a redelivery or the requeue job), then no-ops;
- an SQS message (Lambda) whose task fails while S3 is down: reported as a batch item failure,
  redelivered, done once S3 is back; a duplicate delivery changes nothing.

Elsewhere: the projects storage-delete task retried until S3 is back
(tests/resilience/test_storage_down.py), webhook replays and concurrent duplicates
(tests/billing/test_webhooks.py), duplicated and retried email tasks
(tests/notifications/test_sending.py), two workers racing (test_concurrency_and_ops.py).
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import boto3
import pytest
import time_machine
from botocore.config import Config
from celery import Celery
from django.core import mail
from django.test import Client
from django.utils import timezone
from djstripe.models import Event, Invoice, WebhookEndpoint

from billing.models import ProcessedStripeEvent
from notifications.jobs import requeue_stalled_deliveries
from notifications.models import EmailDelivery, Notification
from notifications.services import email_delivery_send, notify
from notifications.tasks import send_email_delivery_task
from projects.tasks import storage_delete_task
from stackpro import lambda_tasks
from tests.billing.conftest import WEBHOOK_SECRET, event_payload, sign
from tests.fakes.stripe_server import FakeStripe
from tests.resilience.backends import DyingBackend, WorkerKilled

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.integration,
]


# ------------------------------------------------------------------------------------------------
# A Stripe webhook failing after its first writes
# ------------------------------------------------------------------------------------------------
class PathFailingStripe(FakeStripe):
    """The fake Stripe, failing the next ``n`` requests whose path starts with a prefix."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_paths: dict[str, int] = {}

    def dispatch(self, method: str, path: str, params: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
        for prefix, left in self.fail_paths.items():
            if left > 0 and path.startswith(prefix):
                self.fail_paths[prefix] = left - 1
                self.requests.append({"method": method, "path": path, "params": params, "headers": headers})
                return self._error(500, "api_error", "Injected failure.")
        return super().dispatch(method, path, params, headers)


@pytest.fixture
def path_failing_stripe(settings):
    fake = PathFailingStripe().start()
    settings.STRIPE_API_BASE = fake.url  # billing reconfigures the SDK on setting_changed
    yield fake
    fake.stop()


def test_a_webhook_failing_after_its_first_writes_is_rolled_back_and_redone_once(user, path_failing_stripe):
    stripe = path_failing_stripe
    endpoint = WebhookEndpoint.objects.create(
        id="we_faults_0001",
        url="https://api.stackpro.test/stripe/webhook/",
        secret=WEBHOOK_SECRET,
        enabled_events=["*"],
        status="enabled",
        livemode=False,
        api_version="2026-08-26.dahlia",
    )
    price = stripe.add_price("stackpro_pro_monthly", 1500)
    customer = stripe.add_customer(email=user.email, metadata={"djstripe_subscriber": str(user.pk)})
    sub = stripe.add_subscription(customer=customer["id"], price=price)
    invoice = stripe.add_invoice(customer=customer["id"], subscription=sub["id"])
    payload = event_payload("invoice.paid", invoice, event_id="evt_faults_half_way")

    def deliver():
        client = Client(raise_request_exception=False)
        return client.post(
            f"/stripe/webhook/{endpoint.djstripe_uuid}/",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(payload),
        )

    # Our reaction claims the event (its first write, after dj-stripe stored the event and mirrored
    # the invoice), then re-reads the subscription from Stripe: that call fails.
    stripe.fail_paths[f"/v1/subscriptions/{sub['id']}"] = 1
    response = deliver()
    assert response.status_code >= 500
    assert stripe.fail_paths[f"/v1/subscriptions/{sub['id']}"] == 0  # it did fail where intended
    # dj-stripe fetched the account, customer and invoice (and wrote them); our reaction's re-read of
    # the subscription was the last call, after its claim.
    assert stripe.requests[-1]["path"] == f"/v1/subscriptions/{sub['id']}"
    assert any(r["path"] == f"/v1/invoices/{invoice['id']}" for r in stripe.requests)
    assert not ProcessedStripeEvent.objects.exists()  # the claim rolled back with everything else
    assert not Event.objects.filter(id="evt_faults_half_way").exists()
    assert not Invoice.objects.filter(id=invoice["id"]).exists()
    assert not Notification.objects.filter(user=user, category="billing").exists()
    assert not EmailDelivery.objects.exists()

    # Stripe retries the delivery: done once; later duplicates do nothing.
    for _ in range(3):
        assert deliver().status_code == 200
    assert ProcessedStripeEvent.objects.filter(event_id="evt_faults_half_way").count() == 1
    assert Invoice.objects.filter(id=invoice["id"]).count() == 1
    assert Notification.objects.filter(user=user, category="billing", title="Payment received").count() == 1


# ------------------------------------------------------------------------------------------------
# The email task's worker dying after the send-claim
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def dying_backend(settings):
    settings.EMAIL_BACKEND = "tests.resilience.backends.DyingBackend"
    DyingBackend.deaths = 0
    yield DyingBackend
    DyingBackend.deaths = 0


def test_an_email_task_killed_after_its_claim_is_sent_once_later(
    user, dying_backend, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        notification = notify(user=user, category="project", title="Added to Apollo")
    delivery = EmailDelivery.objects.get()

    dying_backend.deaths = 1
    with pytest.raises(WorkerKilled):  # the worker runs the task's body and dies at the provider
        email_delivery_send(delivery_id=str(delivery.pk))
    delivery.refresh_from_db()
    assert delivery.status == EmailDelivery.Status.SENDING and delivery.attempts == 1
    assert mail.outbox == []
    assert Notification.objects.filter(pk=notification.pk).exists()  # the in-app part is never lost

    # acks_late: the broker redelivers at once. The claim is fresh (the first worker might still be
    # sending), so the redelivery sends nothing rather than risk a double send.
    assert send_email_delivery_task.apply(args=[str(delivery.pk)]).get() == "not_claimed"
    assert requeue_stalled_deliveries() == 0
    assert mail.outbox == []

    # Past the claim timeout the requeue job (scheduled) queues it again: sent exactly once.
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        assert requeue_stalled_deliveries() == 1
        assert requeue_stalled_deliveries() == 0
        assert send_email_delivery_task.apply(args=[str(delivery.pk)]).get() == "not_claimed"
    delivery.refresh_from_db()
    assert delivery.status == EmailDelivery.Status.SENT and delivery.attempts == 2
    assert len(mail.outbox) == 1


# ------------------------------------------------------------------------------------------------
# The SQS Lambda handler: a failed message is redelivered and done once
# ------------------------------------------------------------------------------------------------
def test_an_sqs_task_failing_while_s3_is_down_is_redelivered_and_done_once(broken_s3, settings):
    # One attempt per S3 call, so the task's inline retries stay quick while S3 refuses.
    settings.AWS_S3_CLIENT_CONFIG = Config(
        signature_version="s3v4", connect_timeout=0.5, read_timeout=0.5, retries={"total_max_attempts": 1}
    )
    settings.STORAGES = {**settings.STORAGES}  # a fresh default_storage with that config
    key = "projects/orphan/object.txt"
    broken_s3.bucket.client.put_object(Bucket=broken_s3.bucket.name, Key=key, Body=b"left over")

    moto_url = broken_s3.bucket.server.moto_url  # one moto server speaks SQS too
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_url)
    queue_url = sqs.create_queue(QueueName=f"faults-{broken_s3.bucket.name}")["QueueUrl"]
    publisher = Celery(
        "publisher",
        set_as_current=False,  # else every later shared_task call would publish to this queue
        broker=f"sqs://@127.0.0.1:{moto_url.rsplit(':', 1)[1]}",
        broker_transport_options={"region": "us-east-1", "predefined_queues": {"celery": {"url": queue_url}}},
    )
    try:
        publisher.send_task(storage_delete_task.name, args=[[key]])
    finally:
        publisher.close()
    message = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, AttributeNames=["All"])["Messages"][0]
    record = {"messageId": message["MessageId"], "body": message["Body"], "attributes": message["Attributes"]}
    assert json.loads(base64.b64decode(message["Body"]))["headers"]["task"] == storage_delete_task.name
    event = {"Records": [record]}

    broken_s3.refuse()
    assert lambda_tasks.handle_sqs(event) == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    assert broken_s3.keys() == [key]  # SQS keeps the message and delivers it again

    broken_s3.restore()
    assert lambda_tasks.handle_sqs(event) == {"batchItemFailures": []}
    assert broken_s3.keys() == []
    assert lambda_tasks.handle_sqs(event) == {"batchItemFailures": []}  # at-least-once: a duplicate is harmless
    assert broken_s3.keys() == []
