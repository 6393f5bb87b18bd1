"""The links schemathesis infers from our schema fill each path id with ids of the objects it names.

Found by the full fuzz run (seed 11): the members' objects were the component ``Membership``, so
nothing matched ``member_id`` but the ``Invitation`` that ``POST …/members/`` answers with; the
stateful phase sent that invitation's id to ``PATCH …/members/{member_id}/``, got 404 and reported
"created resource not found". The component is ``Member`` now, as in the paths.
"""

from __future__ import annotations

import json
import re

import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis.specs.openapi.stateful.dependencies import inject_links

# Path parameter -> the components whose ``id`` may fill it.
EXPECTED_SOURCES = {
    "path.project_id": {"Project", "PaginatedProjectList"},
    "path.member_id": {"Member", "PaginatedMemberList"},
    "path.invitation_id": {"Invitation", "PaginatedInvitationList"},
    "path.file_id": {"File", "PaginatedFileList"},
    "path.conversation_id": {"Conversation", "PaginatedConversationList"},
    "path.id": {"Notification", "PaginatedNotificationList"},  # notifications/{id}/
}


def test_inferred_links_fill_each_id_from_objects_of_its_kind(tmp_path):
    document = tmp_path / "schema.json"
    document.write_bytes(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    schema = schemathesis.openapi.from_path(str(document))
    assert inject_links(schema) > 0
    sources: dict[str, set[str]] = {}
    for operations in schema.raw_schema["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                components = set(re.findall(r"schemas/(\w+)", json.dumps(response.get("content", {}))))
                for link in (response.get("links") or {}).values():
                    for parameter, expression in (link.get("parameters") or {}).items():
                        if parameter.startswith("path.") and expression.startswith("$response.body"):
                            sources.setdefault(parameter, set()).update(components)
    assert sources == EXPECTED_SOURCES
