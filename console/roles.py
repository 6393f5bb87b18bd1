"""Staff groups and what each may do; ``sync_staff_groups`` grants whatever of it exists now.

Specs are ``app_label.codename`` with shell wildcards (``projects.view_*``). Permissions of apps
not installed yet are skipped, and granted by the next ``migrate`` (post_migrate runs the sync) or
``manage.py sync_staff_groups`` once those apps land. The lists are the source of truth: a sync
makes each group hold exactly the matching permissions.
"""

from __future__ import annotations

import fnmatch
from typing import Any

SUPPORT = [
    # read users, projects and subscriptions
    "accounts.view_*",
    "projects.view_*",
    "notifications.view_*",
    "djstripe.view_customer",
    "djstripe.view_subscription",
    "djstripe.view_subscriptionitem",
    "djstripe.view_price",
    "djstripe.view_product",
    "console.view_taskfailure",
    # no otp_totp.*: a device's key is the second factor itself (and the changelist's filters
    # would spell it out, ?key__startswith=); superusers manage devices (docs/security.md)
    # act
    "console.resend_verification",
    "console.revoke_sessions",
]
BILLING = [
    *SUPPORT,
    "billing.view_*",
    "assistant.view_*",
    "djstripe.view_*",
    "console.resync_billing",
    "console.reprocess_webhook",
    "console.view_billing_metrics",
]
GROUPS: dict[str, list[str]] = {"support": SUPPORT, "billing": BILLING}


def matching_permissions(specs: list[str], permissions: list[tuple[int, str, str]]) -> set[int]:
    """Ids of ``(id, app_label, codename)`` rows matched by any spec."""
    matched = set()
    for pk, app_label, codename in permissions:
        full = f"{app_label}.{codename}"
        if any(fnmatch.fnmatchcase(full, spec) for spec in specs):
            matched.add(pk)
    return matched


def sync_staff_groups(
    *, using: str = "default", group_model: Any = None, permission_model: Any = None
) -> dict[str, int]:
    """Create the groups and set their permissions; return how many each holds.

    Takes the Group/Permission models as arguments so a data migration can pass historical ones.
    """
    if group_model is None or permission_model is None:
        from django.contrib.auth.models import Group, Permission

        group_model, permission_model = group_model or Group, permission_model or Permission
    rows = list(permission_model.objects.using(using).values_list("id", "content_type__app_label", "codename"))
    counts = {}
    for name, specs in GROUPS.items():
        group, _ = group_model.objects.using(using).get_or_create(name=name)
        ids = matching_permissions(specs, rows)
        group.permissions.set(ids)
        counts[name] = len(ids)
    return counts


def sync_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    sync_staff_groups(using=using)
