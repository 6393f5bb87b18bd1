"""The API's JSON renderer: DRF's ``JSONRenderer`` output, written by orjson (faster; the figures are
in docs/performance.md). The bytes stay DRF's:

- what orjson does not write itself (datetimes, lazy translations, ``Decimal``, ...) goes through
  DRF's own encoder, so datetimes keep DRF's millisecond precision and ``Z``;
- U+2028 and U+2029 are escaped, as DRF does, so the body stays a JavaScript subset;
- whatever orjson refuses (integers beyond 64 bits, non-string keys, lone surrogates, a float
  subclass), an ``indent`` asked for, or DRF settings other than the defaults: DRF's renderer does it.

Known differences, each the same JSON value or the safer answer: floats below 1e-4 (``0.00001`` for
``1e-05``), a non-finite float as ``null`` where DRF raises, a plain ``Enum`` as its value where DRF's
encoder fails. ``tests/core/test_renderers.py`` pins both the same-bytes corpus and these.
"""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_LINE_SEPARATORS = (b"\xe2\x80\xa8", b"\xe2\x80\xa9")  # U+2028, U+2029 in UTF-8


class _Refused(Exception):
    """A value DRF's renderer should decide about (it raises, or writes what orjson would not)."""


_DRF_ENCODE = JSONEncoder().default


def _default(value: Any) -> Any:
    """DRF's encoder for what orjson passes on (datetimes, lazy strings, Decimals, ...)."""
    if isinstance(value, float):  # a float subclass: let DRF's renderer write it
        raise _Refused
    return _DRF_ENCODE(value)


class JSONRenderer(DRFJSONRenderer):
    # orjson writes what json.dumps writes with these settings only (DRF's defaults).
    _same_as_drf = DRFJSONRenderer.compact and not DRFJSONRenderer.ensure_ascii and DRFJSONRenderer.strict

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        if (
            not self._same_as_drf
            or self.encoder_class is not JSONEncoder
            or self.get_indent(accepted_media_type, renderer_context or {}) is not None  # type: ignore[arg-type]
        ):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=_default, option=_OPTIONS)
        except (orjson.JSONEncodeError, TypeError):
            return super().render(data, accepted_media_type, renderer_context)
        # A single byte is found by memchr, a 3-byte pattern by a slower scan (~5 µs per 6 KB):
        # look for the separators only in bodies with a 0xE2 lead byte at all.
        if b"\xe2" in body and (_LINE_SEPARATORS[0] in body or _LINE_SEPARATORS[1] in body):
            body = body.replace(_LINE_SEPARATORS[0], b"\\u2028").replace(_LINE_SEPARATORS[1], b"\\u2029")
        return body
