"""Serializers that take JSON types at their word: ``0`` is not a string, ``"1"`` is not an integer.

DRF coerces on input (a CharField takes ``0`` as ``"0"``, an IntegerField ``"5"``, a BooleanField
``"yes"``), so requests that break the OpenAPI schema are accepted — schemathesis reports each as
"schema-violating request accepted". ``StrictJSONTypesMixin`` checks the JSON type of every writable
field first and answers the usual 400 ``validation_error`` with the field named. Form and multipart
bodies (a ``QueryDict``: all text) are left to DRF's own parsing.

Lengths are those of the string as sent: DRF trims a CharField (``trim_whitespace``) before its
``max_length`` check, so ``"  " + 150 letters`` passed a 150-character limit that the schema states
as ``maxLength: 150``. The mixin checks ``max_length`` on the untrimmed value first (the stored value
is still trimmed). What else a CharField refuses — NUL characters, and blank-after-trimming when
``allow_blank`` is off — the schema states as a ``pattern`` (``core.schema.string_pattern``).

Use ``StrictSerializer`` / ``StrictModelSerializer`` as the base of request serializers.
"""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.relations import SlugRelatedField

_TEXT_FIELDS = (
    serializers.CharField,
    serializers.UUIDField,
    serializers.DateTimeField,
    serializers.DateField,
    serializers.TimeField,
    serializers.DurationField,
    SlugRelatedField,
)


# Fields whose empty query/form value is no value of their type.
_TYPED_FIELDS = (
    serializers.BooleanField,
    serializers.IntegerField,
    serializers.FloatField,
    serializers.DecimalField,
    serializers.ChoiceField,
    serializers.UUIDField,
    serializers.DateTimeField,
    serializers.DateField,
)


def expected_json_type(field: serializers.Field) -> tuple[str, Any] | None:
    """(name, predicate) of the JSON type ``field`` documents, or None when any type may do."""
    if isinstance(field, serializers.BooleanField):
        return "a boolean", lambda v: isinstance(v, bool)
    if isinstance(field, serializers.IntegerField):
        return "an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)
    if isinstance(field, serializers.FloatField):
        return "a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    if isinstance(field, (serializers.MultipleChoiceField, serializers.ListField, serializers.ListSerializer)):
        return "a list", lambda v: isinstance(v, list)
    if isinstance(field, serializers.ChoiceField):
        if field.choices and all(isinstance(key, str) for key in field.choices):
            return "a string", lambda v: isinstance(v, str)
        return None
    if isinstance(field, (serializers.DictField, serializers.BaseSerializer)):
        return "an object", lambda v: isinstance(v, dict)
    if isinstance(field, _TEXT_FIELDS):
        return "a string", lambda v: isinstance(v, str)
    return None


def too_long_before_trimming(field: serializers.Field, value: Any) -> str | None:
    """The ``max_length`` error of a trimming CharField whose value, as sent, is too long (else None)."""
    if (
        isinstance(field, serializers.CharField)
        and field.trim_whitespace
        and field.max_length is not None
        and isinstance(value, str)
        and len(value) > field.max_length
    ):
        return str(field.error_messages["max_length"].format(max_length=field.max_length))
    return None


class StrictJSONTypesMixin:
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) and not isinstance(data, QueryDict):
            errors: dict[str, list[str]] = {}
            for field in self._writable_fields:  # type: ignore[attr-defined]
                if field.field_name not in data or data[field.field_name] is None:
                    continue  # absence and null are the field's own business (required, allow_null)
                value = data[field.field_name]
                expected = expected_json_type(field)
                if expected and not expected[1](value):
                    errors[field.field_name] = [f"Must be {expected[0]}."]
                elif message := too_long_before_trimming(field, value):
                    errors[field.field_name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        elif isinstance(data, QueryDict):
            # DRF reads an empty form/query value of an optional field as "absent" (``?role=``), so
            # ``?unread=`` or ``?project=`` would pass where the schema wants a boolean or a UUID; and
            # a BooleanField that allows null takes the text ``null`` as None. Absence says "none".
            errors = {}
            for f in self._writable_fields:  # type: ignore[attr-defined]
                value = data.get(f.field_name)
                if value == "" and isinstance(f, _TYPED_FIELDS) and not getattr(f, "allow_blank", False):
                    errors[str(f.field_name)] = ["May not be empty: leave the parameter out instead."]
                elif isinstance(f, serializers.BooleanField) and value in {"null", "Null", "NULL"}:
                    errors[str(f.field_name)] = ["Must be a boolean."]
                elif message := too_long_before_trimming(f, value):
                    errors[str(f.field_name)] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictSerializer(StrictJSONTypesMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictJSONTypesMixin, serializers.ModelSerializer):
    pass
