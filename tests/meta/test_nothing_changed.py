"""The refused-write guard sees each kind of trace: a new row, a touched ``updated_at``, a mail, a stored object."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from projects.models import Activity, Verb
from tests.nothing_changed import nothing_changed
from tests.projects.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_a_quiet_block_passes():
    ProjectFactory()
    with nothing_changed():
        pass


def test_a_new_row_fails_and_names_its_table():
    project = ProjectFactory()
    with pytest.raises(AssertionError, match="projects_activity"):
        with nothing_changed():
            Activity.objects.create(project=project, actor=project.owner, verb=Verb.PROJECT_RENAMED)


def test_a_save_that_only_moves_updated_at_fails():
    project = ProjectFactory()
    with pytest.raises(AssertionError, match="projects_project"):
        with nothing_changed():
            project.save()


def test_a_mail_fails():
    with pytest.raises(AssertionError, match="outbox"):
        with nothing_changed():
            mail.send_mail("hi", "body", "from@example.com", ["to@example.com"])


def test_a_stored_object_fails():
    with pytest.raises(AssertionError, match="storage"):
        with nothing_changed():
            name = default_storage.save("nothing-changed/probe.txt", ContentFile(b"x"))
    default_storage.delete(name)
