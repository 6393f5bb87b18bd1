"""Admin: metadata without content by default, content with the setting, cost totals, top users."""

from decimal import Decimal

import pytest
from django.test import Client

from assistant.models import MonthlyUsage
from assistant.quotas import current_month
from tests.assistant.factories import ConversationFactory, MessageFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def chat(user):
    conversation = ConversationFactory(user=user, title="Secret plans")
    MessageFactory(conversation=conversation, role="user", content="the launch code is 1234")
    MessageFactory(
        conversation=conversation, role="assistant", content="noted", cost_usd=Decimal("0.25"), output_tokens=7
    )
    return conversation


def test_content_is_hidden_by_default(staff_client, chat):
    listing = staff_client.get("/admin/assistant/conversation/")
    assert listing.status_code == 200 and b"Secret plans" not in listing.content
    message = chat.messages.first()
    page = staff_client.get(f"/admin/assistant/message/{message.pk}/change/")
    assert page.status_code == 200 and b"launch code" not in page.content


def test_content_is_shown_with_the_setting(staff_client, chat, settings):
    settings.ASSISTANT_ADMIN_SHOW_CONTENT = True
    assert b"Secret plans" in staff_client.get("/admin/assistant/conversation/").content
    message = chat.messages.first()
    assert b"launch code" in staff_client.get(f"/admin/assistant/message/{message.pk}/change/").content


def test_message_changelist_shows_cost_totals(staff_client, chat):
    page = staff_client.get("/admin/assistant/message/")
    assert page.status_code == 200
    assert b"$0.2500" in page.content


def test_usage_is_ordered_by_cost(staff_client, user, other_user):
    month = current_month()
    MonthlyUsage.objects.create(user=user, month=month, cost_usd=Decimal("1.5"))
    MonthlyUsage.objects.create(user=other_user, month=month, cost_usd=Decimal("9.0"))
    page = staff_client.get("/admin/assistant/monthlyusage/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index(other_user.email) < html.index(user.email)
