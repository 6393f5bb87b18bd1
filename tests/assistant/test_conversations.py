"""Conversations: CRUD, scoping (another user's ids are 404), project filter, constant query counts."""

import uuid

import pytest

from assistant.models import Conversation, Message
from tests.assistant.factories import ConversationFactory, MessageFactory
from tests.nothing_changed import nothing_changed
from tests.security.route_matrix import covers_route
from tests.support import assert_api_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/assistant/conversations/"


def detail(conversation) -> str:
    return f"{URL}{conversation.pk}/"


def test_requires_authentication(api_client):
    assert_api_error(api_client.get(URL), 401, "not_authenticated")


def test_create_list_retrieve_rename_delete(auth_client, user):
    created = auth_client.post(URL, {"title": "  Launch plan "}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["title"] == "Launch plan" and body["project"] is None and body["message_count"] == 0

    conversation = Conversation.objects.get(pk=body["id"])
    assert conversation.user == user
    MessageFactory(conversation=conversation, role="user", content="hello")
    MessageFactory(conversation=conversation, role="assistant", content="hi there")

    listed = auth_client.get(URL).json()
    assert listed["count"] == 1 and listed["results"][0]["message_count"] == 2

    read = auth_client.get(detail(conversation)).json()
    assert [m["content"] for m in read["messages"]] == ["hello", "hi there"]
    assert set(read["messages"][0]) >= {"id", "role", "content", "status", "cached", "usage", "created_at"}

    renamed = auth_client.patch(detail(conversation), {"title": "Renamed"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["title"] == "Renamed"
    assert_api_error(auth_client.patch(detail(conversation), {"title": "  "}, format="json"), 400, "validation_error")

    assert auth_client.delete(detail(conversation)).status_code == 204
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(conversation_id=conversation.pk).exists()


def test_rename_needs_a_title_that_is_more_than_whitespace_and_fits_as_sent(auth_client, user):
    """The schema says so since the full fuzz run: the body is required, ``title`` too, its pattern
    refuses what Python trims away (U+001C is whitespace to ``str.strip``, not to ECMA's ``\\s``)."""
    conversation = ConversationFactory(user=user, title="Before")
    assert_api_error(auth_client.patch(detail(conversation)), 400, "validation_error")
    for title in ("\x1c", "\u3000 \t", " " + "x" * 200, "a\x00"):
        response = auth_client.patch(detail(conversation), {"title": title}, format="json")
        assert "title" in assert_api_error(response, 400, "validation_error")["fields"]
    renamed = auth_client.patch(detail(conversation), {"title": " " + "x" * 199}, format="json")
    assert renamed.status_code == 200 and renamed.json()["title"] == "x" * 199


def test_title_is_optional(auth_client):
    response = auth_client.post(URL, {}, format="json")
    assert response.status_code == 201 and response.json()["title"] == ""


@covers_route("assistant:conversation", "other_tenant", methods=("get", "patch", "delete"))
@covers_route("assistant:messages", "other_tenant", methods=("get", "post"))
def test_another_users_conversation_is_404_everywhere(auth_client, other_user):
    theirs = ConversationFactory(user=other_user)
    MessageFactory(conversation=theirs, content="secret")
    with nothing_changed():
        assert_api_error(auth_client.get(detail(theirs)), 404, "not_found")
        assert_api_error(auth_client.patch(detail(theirs), {"title": "x"}, format="json"), 404, "not_found")
        assert_api_error(auth_client.delete(detail(theirs)), 404, "not_found")
        assert_api_error(auth_client.get(f"{detail(theirs)}messages/"), 404, "not_found")
        response = auth_client.post(f"{detail(theirs)}messages/", {"content": "hi"}, format="json")
        assert_api_error(response, 404, "not_found")
    assert auth_client.get(URL).json()["count"] == 0
    assert Conversation.objects.get(pk=theirs.pk).title == theirs.title
    assert_api_error(auth_client.get(f"{URL}{uuid.uuid4()}/"), 404, "not_found")


def test_another_users_conversation_is_404_whatever_the_body(auth_client, user, other_user):
    """The tenant check wins over the body's errors, so a bad body tells nothing about an id."""
    theirs, mine = ConversationFactory(user=other_user), ConversationFactory(user=user)
    assert_api_error(auth_client.patch(detail(theirs), {"title": ""}, format="json"), 404, "not_found")
    assert_api_error(auth_client.post(f"{detail(theirs)}messages/", {}, format="json"), 404, "not_found")
    body = assert_api_error(auth_client.patch(detail(mine), {"title": ""}, format="json"), 400, "validation_error")
    assert set(body["fields"]) == {"title"}
    body = assert_api_error(auth_client.post(f"{detail(mine)}messages/", {}, format="json"), 400, "validation_error")
    assert set(body["fields"]) == {"content"}


def test_a_project_the_user_cannot_read_is_404(auth_client):
    # Until the projects app provides project_get_for_user, no project is readable.
    response = auth_client.post(URL, {"project": str(uuid.uuid4())}, format="json")
    assert_api_error(response, 404, "not_found")
    assert not Conversation.objects.exists()


def test_filter_by_project(auth_client, user):
    project_id = uuid.uuid4()
    ConversationFactory(user=user, project_id=project_id)
    ConversationFactory(user=user)
    ConversationFactory(project_id=project_id)  # another user's conversation about the same project
    body = auth_client.get(URL, {"project": str(project_id)}).json()
    assert body["count"] == 1 and body["results"][0]["project"] == str(project_id)
    assert auth_client.get(URL).json()["count"] == 2
    assert_api_error(auth_client.get(URL, {"project": "nope"}), 400, "validation_error")


def test_messages_list_is_paginated_and_chronological(auth_client, user):
    conversation = ConversationFactory(user=user)
    for n in range(5):
        MessageFactory(conversation=conversation, content=f"m{n}")
    body = auth_client.get(f"{detail(conversation)}messages/", {"limit": 2, "offset": 1}).json()
    assert body["count"] == 5 and [m["content"] for m in body["results"]] == ["m1", "m2"]


@pytest.mark.parametrize("size", [2, 20])
def test_conversation_list_query_count_is_constant(auth_client, user, django_assert_num_queries, size):
    for _ in range(size):
        MessageFactory(conversation=ConversationFactory(user=user))
    # user (JWT auth) + count + page
    with django_assert_num_queries(3):
        response = auth_client.get(URL, {"limit": 100})
    assert len(response.json()["results"]) == size


@pytest.mark.parametrize("size", [2, 30])
def test_message_list_and_detail_query_counts_are_constant(auth_client, user, django_assert_num_queries, size):
    conversation = ConversationFactory(user=user)
    for _ in range(size):
        MessageFactory(conversation=conversation)
    # user + conversation + count + page
    with django_assert_num_queries(4):
        response = auth_client.get(f"{detail(conversation)}messages/", {"limit": 100})
    assert len(response.json()["results"]) == size
    # user + conversation + latest messages + message count
    with django_assert_num_queries(4):
        response = auth_client.get(detail(conversation))
    assert len(response.json()["messages"]) == size
