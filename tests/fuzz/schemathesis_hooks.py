"""Loaded by the schemathesis CLI (``hooks`` in the harness' schemathesis.toml): our error body for
its error feedback, and a fresh ``Idempotency-Key`` for every request that sends a valid one.

1. Error feedback. schemathesis learns from 4xx bodies to steer generation ("error feedback"), and judges later cases
against the schema as adjusted by what it learnt. Its Django REST framework parser expects DRF's bare
shape, ``{"title": ["This field is required."]}``, read from the root of the body. Ours nests the
same messages one level down, ``{"code": ..., "message": ..., "fields": {"title": [...]}}``, so it
learnt a body property ``fields.title`` that no operation has: it then sent ``{"fields": {"title":
"0"}}`` as valid data and reported ``{"title": "0", "fields": {}}`` as "schema-violating request
accepted" (missing ``fields.title``) — a false positive of its own making (full run, seed 7,
``PATCH /assistant/conversations/{id}/``). This parser reads ``fields`` as DRF's body, so the
feedback names real properties again; every check is unchanged.

2. Idempotency keys. The schema offers an optional ``Idempotency-Key`` on every authenticated POST,
and schemathesis draws a value for it like any string. Hypothesis replays whole scenarios (to shrink,
to confirm a failure), so the same POST went out twice with the same drawn key: the second time our
middleware answered, as documented, with the first answer (``Idempotent-Replayed: true``) — a 201
naming a conversation that the first scenario had since deleted — and the stateful check reported
"created resource not found" (full run, seed 7: POST then DELETE /assistant/conversations/, replayed).
A key names one logical request; a client must not reuse it for a new one (docs/reliability.md).
So, as schemathesis advises for values that must be unique, a ``before_call`` hook gives every
request that carries a *valid* key a fresh one; malformed keys (empty, too long, not printable
ASCII) are sent as drawn, so their 400 is still checked. Replays with the same key are tested in
tests/resilience/test_idempotency.py.

Written against schemathesis 4.32.5 (``requirements/dev.txt`` pins it); the imports fail loudly
if a later version moves the parser.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import schemathesis
from schemathesis.core.error_feedback.parsers import PARSERS
from schemathesis.core.error_feedback.parsers.drf import DRFParser


def _field_errors(body: Any) -> Any:
    """The DRF-shaped part of our error body (``fields``), or the body itself when it is not ours."""
    if isinstance(body, dict) and "code" in body and "message" in body and isinstance(body.get("fields"), dict):
        return body["fields"]
    return body


class StackProErrorParser(DRFParser):
    """DRF's parser applied to ``fields`` of our error body (and to DRF's own shape otherwise)."""

    def can_parse(self, *, body: object) -> bool:
        return super().can_parse(body=_field_errors(body))

    def parse(self, *, operation: Any, body: object, case: Any) -> Any:
        return super().parse(operation=operation, body=_field_errors(body), case=case)


# In place of the stock DRF parser: the pipeline tries the last parser that matched first, so the
# stock one must not be there to claim our body again.
PARSERS.unregister(DRFParser.__name__)
PARSERS.register(StackProErrorParser)


IDEMPOTENCY_HEADER = "idempotency-key"
_VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")  # as core.idempotency accepts it


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == IDEMPOTENCY_HEADER and isinstance(value, str) and _VALID_KEY.fullmatch(value):
            headers[name] = str(uuid.uuid4())
