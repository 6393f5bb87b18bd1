"""Factories for projects' tests (data set-up only; behaviour is tested through the API)."""

from __future__ import annotations

import secrets
from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from projects.models import File, FileStatus, Invitation, Membership, Project, Role
from projects.services import _hash_token
from projects.storage import object_key
from tests.factories import UserFactory


class ProjectFactory(DjangoModelFactory[Project]):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Project {n:03d}")
    owner = factory.SubFactory(UserFactory)

    @factory.post_generation
    def owner_membership(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            Membership.objects.create(project=obj, user=obj.owner, role=Role.OWNER)


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER


class FileFactory(DjangoModelFactory[File]):
    class Meta:
        model = File

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"file-{n:03d}.txt")
    size = 100
    content_type = "text/plain"
    status = FileStatus.READY
    uploaded_by = factory.LazyAttribute(lambda o: o.project.owner)
    key = factory.LazyAttribute(lambda o: object_key(project_id=o.project.pk, file_id=o.id, name=o.name))
    id = factory.Faker("uuid4", cast_to=None)


class InvitationFactory(DjangoModelFactory[Invitation]):
    class Meta:
        model = Invitation

    project = factory.SubFactory(ProjectFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.VIEWER
    token_hash = factory.LazyFunction(lambda: _hash_token(secrets.token_urlsafe(16)))
    invited_by = factory.LazyAttribute(lambda o: o.project.owner)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
