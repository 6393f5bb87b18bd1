"""Assistant's "other tenant" cases for its collection routes: conversations and usage are the
caller's own; another tenant's project, conversations and token usage are neither listed nor used."""

from __future__ import annotations

import pytest

from assistant import quotas
from assistant.models import MonthlyUsage
from tests.assistant.factories import ConversationFactory
from tests.nothing_changed import nothing_changed
from tests.projects.factories import ProjectFactory
from tests.security.route_matrix import covers_route
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db

CONVERSATIONS = "/api/v1/assistant/conversations/"
USAGE = "/api/v1/assistant/usage/"


@covers_route("assistant:conversations", "other_tenant", methods=("get", "post"))
def test_another_tenants_conversations_and_projects_stay_out_of_reach(auth_client, user, other_user):
    theirs = ProjectFactory(owner=other_user, name="Their project")
    ConversationFactory(user=other_user, project_id=theirs.pk, title="their conversation")

    listed = auth_client.get(CONVERSATIONS).json()
    assert listed["count"] == 0
    assert auth_client.get(CONVERSATIONS, {"project": str(theirs.pk)}).json()["count"] == 0

    with nothing_changed():
        response = auth_client.post(CONVERSATIONS, {"title": "peek", "project": str(theirs.pk)}, format="json")
    assert_api_error(response, 404, "not_found")

    # The caller's own project works, so the 404 above is the tenant check, not a broken route.
    mine = ProjectFactory(owner=user)
    response = auth_client.post(CONVERSATIONS, {"project": str(mine.pk)}, format="json")
    assert response.status_code == 201 and response.json()["project"] == str(mine.pk)


@covers_route("assistant:usage", "other_tenant", methods=("get",))
def test_usage_counts_only_the_callers_tokens(auth_client, other_client, user, other_user):
    MonthlyUsage.objects.create(user=other_user, month=quotas.current_month(), used_tokens=4321)
    assert auth_client.get(USAGE).json()["tokens_used"] == 0
    assert other_client.get(USAGE).json()["tokens_used"] == 4321
    assert not MonthlyUsage.objects.filter(user=user).exists()
