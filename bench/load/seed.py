"""Seed the load-test accounts: load0..loadN-1@example.com, fast and idempotent.

Every account shares one precomputed password hash (hashing 1,000 Argon2 passwords would take
half a minute of CPU), is active and verified, owns one project and is a member of the next
``PAGE - 1`` users' projects (a ring), so its first page of 20 projects is full once N >= 20.
Rows are created with ``bulk_create``; a re-run creates only what is missing.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction

from projects.models import Membership, Project, Role

PAGE = 20
BATCH = 500


def email(i: int) -> str:
    return f"load{i}@example.com"


def seed(users: int, password: str) -> dict[str, int]:
    """Create what is missing of ``users`` seeded accounts; return counts of rows created."""
    User = get_user_model()
    encoded = make_password(password)
    if not check_password(password, encoded):  # the hasher really verifies what it made
        raise RuntimeError("the precomputed password hash does not verify")
    emails = [email(i) for i in range(users)]
    created = {"users": 0, "projects": 0, "memberships": 0}
    with transaction.atomic():
        existing = dict(User.objects.filter(email__in=emails).values_list("email", "id"))
        new_users = [
            User(email=e, name=f"Load {e.split('@')[0]}", password=encoded, email_verified=True, is_active=True)
            for e in emails
            if e not in existing
        ]
        User.objects.bulk_create(new_users, batch_size=BATCH)
        created["users"] = len(new_users)
        # Existing accounts get the shared hash again (a previous run may have used another password).
        User.objects.filter(email__in=list(existing)).update(password=encoded, email_verified=True, is_active=True)
        ids = dict(User.objects.filter(email__in=emails).values_list("email", "id"))
        user_ids = [ids[e] for e in emails]

        seeded_name = "Load project"
        owned = dict(Project.objects.filter(owner_id__in=user_ids, name=seeded_name).values_list("owner_id", "id"))
        new_projects = [
            Project(owner_id=uid, name=seeded_name, description=f"Seeded for {e}")
            for e, uid in zip(emails, user_ids, strict=True)
            if uid not in owned
        ]
        Project.objects.bulk_create(new_projects, batch_size=BATCH)
        created["projects"] = len(new_projects)
        owned = dict(Project.objects.filter(owner_id__in=user_ids, name=seeded_name).values_list("owner_id", "id"))
        project_ids = [owned[uid] for uid in user_ids]

        wanted: list[tuple[object, object, str]] = []
        ring = min(PAGE - 1, users - 1)
        for i, uid in enumerate(user_ids):
            wanted.append((project_ids[i], uid, Role.OWNER))
            for k in range(1, ring + 1):
                wanted.append((project_ids[(i + k) % users], uid, Role.EDITOR if k % 2 else Role.VIEWER))
        have = set(Membership.objects.filter(project_id__in=project_ids).values_list("project_id", "user_id"))
        # bulk_create skips Membership.save(), which sets is_owner: set it here.
        new_memberships = [
            Membership(project_id=pid, user_id=uid, role=role, is_owner=True if role == Role.OWNER else None)
            for pid, uid, role in wanted
            if (pid, uid) not in have
        ]
        Membership.objects.bulk_create(new_memberships, batch_size=BATCH)
        created["memberships"] = len(new_memberships)
    print(f"seed: {users} accounts ready ({created})")
    return created
