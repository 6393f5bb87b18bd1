"""Fixtures of projects' tests: a project with one member of each role, and S3 on a moto server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from projects.models import Role
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.fixtures.moto import moto_s3_server, s3  # noqa: F401  (registers the fixtures)
from tests.openapi import SchemaCheckedClient

from .factories import FileFactory, InvitationFactory, MembershipFactory, ProjectFactory


@dataclass
class World:
    owner: Any
    editor: Any
    viewer: Any
    outsider: Any
    project: Any
    editor_membership: Any
    viewer_membership: Any
    file: Any
    invitation: Any

    def client(self, who: str) -> SchemaCheckedClient:
        if who == "anonymous":
            return SchemaCheckedClient()
        return client_for(getattr(self, "outsider" if who == "non_member" else who))

    def url(self, suffix: str = "") -> str:
        return f"/api/v1/projects/{self.project.pk}/{suffix}"


@pytest.fixture
def world(db: None) -> World:
    owner, editor, viewer, outsider = (UserFactory() for _ in range(4))
    project = ProjectFactory(owner=owner, name="Apollo")
    editor_membership = MembershipFactory(project=project, user=editor, role=Role.EDITOR)
    viewer_membership = MembershipFactory(project=project, user=viewer, role=Role.VIEWER)
    # The outsider owns a project of their own, so they are a real tenant, not an empty account.
    ProjectFactory(owner=outsider, name="Outsider's")
    return World(
        owner=owner,
        editor=editor,
        viewer=viewer,
        outsider=outsider,
        project=project,
        editor_membership=editor_membership,
        viewer_membership=viewer_membership,
        file=FileFactory(project=project),
        invitation=InvitationFactory(project=project),
    )
