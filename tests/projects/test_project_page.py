"""selectors.project_page_for_user (one prepared statement) answers what the ORM answers, for every
ordering, filter, page and offset, on the database under test."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework import serializers

from projects import selectors
from projects.models import Membership, Project, Role
from projects.serializers import ProjectSerializer, project_rows
from tests.factories import UserFactory

from .factories import MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def orm_page(user, limit, offset, role=None, archived=None, q=None, ordering=None):
    """The reference: the same page built by the ORM (what the list ran before it was prepared SQL)."""
    qs = Membership.objects.filter(user=user)
    if role:
        qs = qs.filter(role=role)
    if archived is not None:
        qs = qs.filter(project__archived=archived)
    if q:
        qs = qs.filter(Q(project__name__icontains=q) | Q(project__description__icontains=q))
    count = Membership.objects.filter(project=OuterRef("project_id")).order_by().values("project")
    count = count.annotate(c=Count("id")).values("c")
    fields = selectors.PROJECT_ORDERINGS[ordering or "-created"]
    order = [f"-project__{f[1:]}" if f.startswith("-") else f"project__{f}" for f in fields]
    rows = (
        qs.values(*selectors.PROJECT_ROW_FIELDS[:-1])
        .annotate(member_count=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)))
        .order_by(*order)
    )
    return qs.count(), [as_text(row) for row in rows[offset : offset + limit]]


def as_text(row: dict) -> tuple:
    """An ORM row as the selector returns it: a tuple in ``PROJECT_ROW_FIELDS`` order, with ids
    and datetimes as the API writes them."""
    when = serializers.DateTimeField().to_representation
    row = {
        **row,
        "project_id": str(row["project_id"]),
        "project__owner_id": str(row["project__owner_id"]),
        "project__created_at": when(row["project__created_at"]),
        "project__updated_at": when(row["project__updated_at"]),
    }
    return tuple(row[name] for name in selectors.PROJECT_ROW_FIELDS)


def archived_as_bool(rows: list) -> list:
    """``archived`` is left as stored (0/1 on MySQL and SQLite); the serializer makes it a bool."""
    archived = selectors.PROJECT_ROW_FIELDS.index("project__archived")
    assert all(row[archived] in (0, 1) for row in rows)
    return [(*row[:archived], bool(row[archived]), *row[archived + 1 :]) for row in rows]


@pytest.fixture
def alice():
    """alice in 7 projects with every role, names that tie, searchable text, LIKE wildcards,
    archived ones, different member counts and timestamps."""
    alice = UserFactory(name="Alice")
    base = timezone.now() - timedelta(days=30)
    specs = [
        ("Zebra", "first", Role.OWNER, False),
        ("alpha", "Has 100% coverage", Role.EDITOR, False),
        ("Alpha", "under_score", Role.VIEWER, True),
        ("Mango", "", Role.OWNER, True),
        ("mango", "MANGO juice", Role.EDITOR, False),
        ("Kiwi", "a_b", Role.VIEWER, False),
        ("Kiwi", "search me", Role.OWNER, False),
    ]
    for i, (name, description, role, archived) in enumerate(specs):
        owner = alice if role == Role.OWNER else UserFactory()
        project = ProjectFactory(name=name, description=description, owner=owner, archived=archived)
        if role != Role.OWNER:
            MembershipFactory(project=project, user=alice, role=role)
        for _ in range(i % 3):
            MembershipFactory(project=project)
        at = base + timedelta(days=i, microseconds=i)
        Project.objects.filter(pk=project.pk).update(created_at=at, updated_at=base + timedelta(days=10 - i))
    ProjectFactory(name="Someone else's")  # never alice's
    return alice


FILTERS = [
    {},
    {"role": Role.OWNER},
    {"role": Role.VIEWER},
    {"archived": True},
    {"archived": False},
    {"q": "mango"},
    {"q": "100%"},
    {"q": "_"},
    {"q": "a_b"},
    {"q": "zzz"},
    {"role": Role.EDITOR, "archived": False, "q": "ALPHA"},
]


@pytest.mark.parametrize("ordering", [None, *selectors.PROJECT_ORDERINGS])
def test_every_ordering_and_filter_matches_the_orm(alice, ordering) -> None:
    for filters, (limit, offset) in itertools.product(FILTERS, [(20, 0), (3, 0), (3, 2), (2, 6), (5, 40)]):
        expected_total, expected_rows = orm_page(alice, limit, offset, ordering=ordering, **filters)
        total, rows = selectors.project_page_for_user(
            user=alice, limit=limit, offset=offset, ordering=ordering, **filters
        )
        case = (ordering, filters, limit, offset)
        assert total == expected_total, case
        assert archived_as_bool(rows) == expected_rows, case


def test_rows_serialize_as_the_model_serializer_does(alice) -> None:
    total, rows = selectors.project_page_for_user(user=alice, limit=20, offset=0)
    assert total == 7 and len(rows) == 7
    expected = []
    for row in rows:
        project = selectors.project_get_for_user(project_id=row[1], user=alice)
        project.member_count = Membership.objects.filter(project=project).count()
        expected.append(ProjectSerializer(project).data)
    assert project_rows(rows) == [dict(item) for item in expected]


def test_a_user_with_no_projects_and_an_offset_past_the_end() -> None:
    nobody = UserFactory()
    assert selectors.project_page_for_user(user=nobody, limit=20, offset=0) == (0, [])
    owner = ProjectFactory().owner
    assert selectors.project_page_for_user(user=owner, limit=20, offset=5) == (1, [])


def test_unknown_role_and_ordering_are_invalid_input(alice) -> None:
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        selectors.project_page_for_user(user=alice, limit=20, offset=0, role="admin")
    with pytest.raises(InvalidInput):
        selectors.project_page_for_user(user=alice, limit=20, offset=0, ordering="owner")


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles"])
def test_the_page_matches_the_orm_in_any_time_zone(alice, zone) -> None:
    """UTC: the database writes the text on MySQL/MariaDB; elsewhere Python turns the values."""
    with timezone.override(zone):
        expected_total, expected_rows = orm_page(alice, 20, 0)
        total, rows = selectors.project_page_for_user(user=alice, limit=20, offset=0)
    assert (total, archived_as_bool(rows)) == (expected_total, expected_rows)
    assert any(not row[7].endswith("Z") for row in rows) is (zone != "UTC")
