"""The schemathesis hooks of the harness: our error body read as DRF's, a fresh valid Idempotency-Key per request."""

from __future__ import annotations

import json
import uuid

import requests
import schemathesis
from schemathesis.core.error_feedback.parsers import PARSERS
from schemathesis.core.error_feedback.pipeline import FeedbackPipeline
from schemathesis.core.transport import Response

from tests.fuzz import schemathesis_hooks

SCHEMA = {
    "openapi": "3.0.3",
    "info": {"title": "hooks", "version": "1"},
    "paths": {
        "/things/": {
            "post": {
                "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"title": {"type": "string"}},
                                "required": ["title"],
                            }
                        }
                    },
                },
                "responses": {"201": {"description": "created"}},
            }
        }
    },
}


def operation():
    return schemathesis.openapi.from_dict(SCHEMA)["/things/"]["POST"]


def observed_paths(body):
    op = operation()
    response = Response(
        status_code=400,
        headers={"content-type": ["application/json"]},
        content=json.dumps(body).encode(),
        request=requests.Request("POST", "http://testserver/things/").prepare(),
        elapsed=0.01,
        verify=True,
    )
    pipeline = FeedbackPipeline(parser() for parser in PARSERS.get_all())
    return [o.parameter_path for o in pipeline.parse(operation=op, case=op.Case(body={}), response=response)]


def test_field_errors_of_our_error_body_name_the_body_property_not_fields_dot_property():
    assert "DRFParser" not in PARSERS.get_all_names()  # ours replaces it (the hooks module is imported)
    ours = {
        "code": "validation_error",
        "message": "Some fields are invalid.",
        "fields": {"title": ["This field is required."]},
    }
    assert observed_paths(ours) == [("title",)]
    assert observed_paths({"title": ["This field is required."]}) == [("title",)]  # DRF's own shape still read


def test_a_valid_idempotency_key_is_fresh_on_every_call_and_a_malformed_one_is_sent_as_drawn():
    op = operation()
    sent = []
    for key in ("same-key", "same-key"):
        case = op.Case(headers={"Idempotency-Key": key}, body={"title": "x"})
        schemathesis_hooks.before_call(None, case, {})
        sent.append(case.headers["Idempotency-Key"])
    assert sent[0] != sent[1] and all(uuid.UUID(key) for key in sent)
    for malformed in ("", "x" * 256, "é"):
        case = op.Case(headers={"Idempotency-Key": malformed}, body={"title": "x"})
        schemathesis_hooks.before_call(None, case, {})
        assert case.headers["Idempotency-Key"] == malformed
