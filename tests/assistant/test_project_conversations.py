"""Project conversations end to end: a member's project context reaches Claude (marked for prompt
caching), a non-member gets 404, and a change to the project's files invalidates cached answers."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.support import assert_api_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(auth_client):
    response = auth_client.post(
        "/api/v1/projects/", {"name": "Apollo", "description": "Moon landing plan"}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def upload(client, project, name, content):
    response = client.post(
        f"/api/v1/projects/{project['id']}/files/",
        {"file": SimpleUploadedFile(name, content, "text/plain")},
        format="multipart",
    )
    assert response.status_code == 201, response.content


def system_text(request_body):
    return "\n".join(block["text"] for block in request_body["system"] if block.get("type") == "text")


def test_member_gets_the_project_context_marked_for_caching(auth_client, project, fake_anthropic):
    upload(auth_client, project, "notes.md", b"Launch window opens on July 16.")
    send(auth_client, new_project_conversation(auth_client, project), "When?")
    body = fake_anthropic.requests[-1].body
    text = system_text(body)
    assert "Apollo" in text and "Moon landing plan" in text
    assert "notes.md" in text and "Launch window opens on July 16." in text
    assert any(block.get("cache_control") == {"type": "ephemeral"} for block in body["system"])


def test_non_member_cannot_use_the_project(other_client, project, fake_anthropic):
    response = other_client.post("/api/v1/assistant/conversations/", {"project": project["id"]}, format="json")
    assert_api_error(response, 404, "not_found")
    assert fake_anthropic.calls == 0


def new_project_conversation(client, project):
    response = client.post("/api/v1/assistant/conversations/", {"project": project["id"]}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def send(client, conversation_id, content):
    response = client.post(
        f"/api/v1/assistant/conversations/{conversation_id}/messages/", {"content": content}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_file_invalidates_cached_project_answers(auth_client, project, fake_anthropic):
    assert send(auth_client, new_project_conversation(auth_client, project), "Summarise")["cached"] is False
    # The same project, context and turns again: answered from the cache, no upstream call.
    assert send(auth_client, new_project_conversation(auth_client, project), "Summarise")["cached"] is True
    calls = fake_anthropic.calls
    upload(auth_client, project, "new.txt", b"A new fact.")
    assert send(auth_client, new_project_conversation(auth_client, project), "Summarise")["cached"] is False
    assert fake_anthropic.calls == calls + 1
    assert "A new fact." in system_text(fake_anthropic.requests[-1].body)
