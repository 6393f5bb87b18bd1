"""What the emails contain: both parts in the shared layout, absolute links, the unsubscribe
footer and the RFC 8058 headers on non-transactional mail."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from notifications.services import notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def urls(settings):
    settings.FRONTEND_URL = "https://app.stackpro.test"
    settings.NOTIFICATIONS_PUBLIC_API_URL = "https://api.stackpro.test"
    settings.NOTIFICATIONS_UNSUBSCRIBE_PAGE_URL = "https://app.stackpro.test/notifications/unsubscribe/{token}"
    settings.NOTIFICATIONS_UNSUBSCRIBE_MAILTO = ""


def _send(user, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, **kwargs)
    assert len(mail.outbox) == 1
    return mail.outbox[0]


def test_notification_email_has_both_parts_links_and_headers(user, urls, django_capture_on_commit_callbacks):
    message = _send(
        user,
        django_capture_on_commit_callbacks,
        category="project",
        title="Ada invited you to Apollo & Co",
        body="Join the project <today>.",
        link="/projects/42",
    )
    assert message.to == [user.email]
    assert message.subject == "[StackPro] Ada invited you to Apollo & Co"
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"

    # text part: not HTML-escaped, absolute link, footer with unsubscribe and settings links
    assert "Ada invited you to Apollo & Co" in message.body
    assert "Join the project <today>." in message.body
    assert "https://app.stackpro.test/projects/42" in message.body
    assert "Unsubscribe: https://app.stackpro.test/notifications/unsubscribe/" in message.body
    assert "https://app.stackpro.test/settings/notifications" in message.body
    # HTML part: escaped, in the layout with the product name, same links
    assert "Apollo &amp; Co" in html and "&lt;today&gt;" in html
    assert "<script" not in html
    assert html.count("StackPro") >= 2
    assert 'href="https://app.stackpro.test/projects/42"' in html
    assert 'href="https://app.stackpro.test/notifications/unsubscribe/' in html

    # RFC 8058: an https one-click target (the API) and the POST marker
    headers = message.extra_headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    match = re.fullmatch(
        r"<(https://api\.stackpro\.test/api/v1/notifications/unsubscribe/([^/]+)/)>", headers["List-Unsubscribe"]
    )
    assert match, headers["List-Unsubscribe"]
    # the footer link and the header carry the same token
    assert f"/notifications/unsubscribe/{match.group(2)}" in message.body
    # the headers survive into the real MIME message
    mime = message.message()
    assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mime["List-Unsubscribe"].startswith("<https://api.stackpro.test/")


def test_mailto_form_is_added_when_configured(user, urls, settings, django_capture_on_commit_callbacks):
    settings.NOTIFICATIONS_UNSUBSCRIBE_MAILTO = "unsubscribe@stackpro.test"
    message = _send(user, django_capture_on_commit_callbacks, category="billing", title="Invoice paid")
    assert message.extra_headers["List-Unsubscribe"].endswith(
        ", <mailto:unsubscribe@stackpro.test?subject=unsubscribe>"
    )


def test_security_email_has_its_template_and_no_unsubscribe(user, urls, django_capture_on_commit_callbacks):
    message = _send(user, django_capture_on_commit_callbacks, category="security", title="Your password was changed")
    html = message.alternatives[0][0]
    assert message.subject == "[StackPro security] Your password was changed"
    assert "If this was not you" in message.body and "If this was not you" in html
    assert "cannot be turned off" in message.body and "cannot be turned off" in html
    assert "List-Unsubscribe" not in message.extra_headers
    assert "unsubscribe" not in message.body.lower()


def test_absolute_links_are_kept(user, urls, django_capture_on_commit_callbacks):
    message = _send(
        user,
        django_capture_on_commit_callbacks,
        category="billing",
        title="Invoice",
        link="https://pay.stripe.test/i/1",
    )
    assert "https://pay.stripe.test/i/1" in message.body
