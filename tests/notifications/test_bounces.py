"""SES bounces and complaints through the real webhook URL: basic auth, SNS signature (checked by
our subclass — anymail 15.2 does not), then the address is suppressed."""

from __future__ import annotations

import json

import pytest
from django.core import mail

from notifications.models import EmailDelivery, Notification, SuppressedAddress
from notifications.services import notify, send_transactional_email
from tests.nothing_changed import nothing_changed
from tests.notifications.conftest import post_sns
from tests.security.route_matrix import covers_route

pytestmark = pytest.mark.django_db


def bounce_event(recipient: str, *, bounce_type: str = "Permanent", message_id: str = "0100018c-ses-id") -> dict:
    """An SES bounce notification as SES publishes it to SNS."""
    return {
        "notificationType": "Bounce",
        "bounce": {
            "feedbackId": "0100018c-feedback",
            "bounceType": bounce_type,
            "bounceSubType": "General" if bounce_type == "Permanent" else "MailboxFull",
            "bouncedRecipients": [
                {
                    "emailAddress": recipient,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": "2026-11-26T08:59:58.000Z",
            "remoteMtaIp": "203.0.113.5",
            "reportingMTA": "dsn; a8-30.smtp-out.amazonses.com",
        },
        "mail": {
            "timestamp": "2026-11-26T08:59:57.000Z",
            "source": "no-reply@stackpro.local",
            "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/stackpro.local",
            "sendingAccountId": "123456789012",
            "messageId": message_id,
            "destination": [recipient],
            "headersTruncated": False,
            "headers": [{"name": "X-Tag", "value": "notification"}],
            "commonHeaders": {"from": ["no-reply@stackpro.local"], "to": [recipient], "subject": "Hello"},
        },
    }


def complaint_event(recipient: str) -> dict:
    return {
        "notificationType": "Complaint",
        "complaint": {
            "userAgent": "ExampleCorp Feedback Loop (V0.01)",
            "complainedRecipients": [{"emailAddress": recipient}],
            "complaintFeedbackType": "abuse",
            "arrivalDate": "2026-11-26T09:00:00.000Z",
            "timestamp": "2026-11-26T09:00:01.000Z",
            "feedbackId": "0100018c-complaint",
        },
        "mail": {
            "timestamp": "2026-11-26T08:59:57.000Z",
            "source": "no-reply@stackpro.local",
            "messageId": "0100018c-ses-id-2",
            "destination": [recipient],
        },
    }


def test_permanent_bounce_suppresses_and_later_mail_is_skipped(
    client, sns_signer, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, category="project", title="Before the bounce")
    EmailDelivery.objects.update(provider_message_id="0100018c-ses-id")

    response = post_sns(client, sns_signer.ses_notification(bounce_event(user.email.upper())))
    assert response.status_code == 200, response.content

    suppressed = SuppressedAddress.objects.get()
    assert suppressed.email == user.email
    assert suppressed.reason == SuppressedAddress.Reason.BOUNCED
    assert suppressed.description == "Permanent: General"
    assert EmailDelivery.objects.get().last_error.startswith("bounced")

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, category="project", title="After the bounce")
        send_transactional_email(to=user.email, template="notifications_default", context={"title": "Reset"})
    assert Notification.objects.filter(user=user).count() == 2  # in-app still works
    assert [m.subject for m in mail.outbox] == ["[StackPro] Reset"]  # only the transactional one


def test_each_delivery_is_a_webhook_metric_line(client, sns_signer, user, settings, capsys):
    """docs/serverless.md: Service ``webhooks``, ``WebhookLatency``/``WebhookFailures`` (EMF), source ses."""
    settings.METRICS_EMF, settings.METRICS_DETAILED = True, False
    assert post_sns(client, sns_signer.ses_notification(complaint_event(user.email))).status_code == 200
    assert post_sns(client, sns_signer.ses_notification(complaint_event(user.email)), auth="x:y").status_code == 400
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    hooks = [line for line in lines if line["Service"] == "webhooks"]
    assert [(h["Source"], h["event_type"], h["WebhookFailures"]) for h in hooks] == [
        ("ses", "Notification", 0),
        ("ses", "Notification", 1),
    ]
    assert all(h["WebhookLatency"] > 0 for h in hooks)


def test_complaint_suppresses(client, sns_signer, user):
    assert post_sns(client, sns_signer.ses_notification(complaint_event(user.email))).status_code == 200
    assert SuppressedAddress.objects.get(email=user.email).reason == SuppressedAddress.Reason.COMPLAINED


def test_transient_bounce_does_not_suppress(client, sns_signer, user):
    assert (
        post_sns(client, sns_signer.ses_notification(bounce_event(user.email, bounce_type="Transient"))).status_code
        == 200
    )
    assert not SuppressedAddress.objects.exists()


def test_signature_version_2_is_accepted(client, sns_signer, user):
    message = sns_signer.ses_notification(complaint_event(user.email))
    message = sns_signer.sign({k: v for k, v in message.items() if k != "Signature"}, version="2")
    assert post_sns(client, message).status_code == 200
    assert SuppressedAddress.objects.exists()


@covers_route("anymail:amazon_ses_tracking_webhook", "anonymous", methods=("post",))
def test_missing_or_wrong_basic_auth_is_rejected(client, sns_signer, user):
    message = sns_signer.ses_notification(bounce_event(user.email))
    with nothing_changed():
        assert post_sns(client, message, auth=None).status_code == 401  # SNS then retries with credentials
        assert post_sns(client, message, auth="anymail-user:wrong").status_code == 400
    assert not SuppressedAddress.objects.exists()


@covers_route("anymail:amazon_ses_tracking_webhook", "anonymous", methods=("post",))
def test_tampered_message_fails_the_signature_check(client, sns_signer, user, other_user):
    message = sns_signer.ses_notification(bounce_event(user.email))
    message["Message"] = json.dumps(bounce_event(other_user.email))  # someone rewrites the recipient
    with nothing_changed():
        response = post_sns(client, message)
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert not SuppressedAddress.objects.exists()


def test_unsigned_message_is_rejected(client, sns_signer, user):
    message = sns_signer.ses_notification(bounce_event(user.email))
    del message["Signature"]
    assert post_sns(client, message).status_code == 400
    assert not SuppressedAddress.objects.exists()


def test_certificate_must_come_from_amazon(client, sns_signer, settings, user):
    settings.NOTIFICATIONS_SNS_CERT_URL_REGEX = r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[^?#]+\.pem$"
    # a correctly self-signed message whose certificate lives on an attacker's host
    assert post_sns(client, sns_signer.ses_notification(bounce_event(user.email))).status_code == 400
    assert not SuppressedAddress.objects.exists()


def test_unexpected_topic_is_rejected(client, sns_signer, user):
    message = sns_signer.ses_notification(bounce_event(user.email), TopicArn="arn:aws:sns:us-east-1:999999999999:other")
    assert post_sns(client, message).status_code == 400
    assert not SuppressedAddress.objects.exists()


def test_production_regex_accepts_real_amazon_certificate_urls():
    import re

    from django.conf import settings as django_settings

    pattern = django_settings.NOTIFICATIONS_SNS_CERT_URL_REGEX
    assert pattern.startswith(r"^https://sns\.")
    assert re.match(
        pattern, "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-6aad65c2f9911b05cd53efda11f913f9.pem"
    )
    for bad in [
        "http://sns.us-east-1.amazonaws.com/cert.pem",
        "https://sns.us-east-1.amazonaws.com.evil.test/cert.pem",
        "https://evil.test/sns.us-east-1.amazonaws.com/cert.pem",
        "https://sns.us-east-1.amazonaws.com@evil.test/cert.pem",
    ]:
        assert not re.match(pattern, bad), bad
