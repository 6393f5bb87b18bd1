"""console's part of an account's erasure (registered in ``ConsoleConfig.ready``, like every app's
``gdpr.py``): recorded task failures stay as operations records, without the person."""

from __future__ import annotations

import json
import re
from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from .models import TaskFailure

ERASED = "[erased]"


def erase_user(user: Any) -> None:
    """Replace the user's addresses and id (both forms) in recorded task failures (an error message
    or a task argument may carry them) with "[erased]". There is nothing to export: the rows
    describe our tasks, not the user."""
    mentions = [v for v in (user.email, getattr(user, "pending_email", ""), str(user.pk), user.pk.hex) if v]
    named = Q()
    for mention in mentions:
        named |= Q(error__icontains=mention) | Q(traceback__icontains=mention) | Q(context_text__icontains=mention)
    pattern = re.compile("|".join(re.escape(m) for m in mentions), re.IGNORECASE)
    for row in TaskFailure.objects.annotate(context_text=Cast("context", TextField())).filter(named):
        row.error = pattern.sub(ERASED, row.error)[:500]
        row.traceback = pattern.sub(ERASED, row.traceback)
        row.context = json.loads(pattern.sub(ERASED, json.dumps(row.context)))
        row.save(update_fields=["error", "traceback", "context"])
