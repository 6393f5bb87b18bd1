"""Log filter adding the request id to every record, and a JSON-lines formatter."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from .context import request_id_var, user_id_var

_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "user_id",
}


class RequestIdFilter(logging.Filter):
    """The request and user ids of the request being served, on every record.

    Django logs a request's 4xx/5xx line (``django.request``) after the middleware chain returned and
    the context was reset; such records carry the request, where RequestIdMiddleware left the ids.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request_id, user_id = request_id_var.get(), user_id_var.get()
        request = getattr(record, "request", None)
        if request_id == "-" and request is not None:
            request_id = getattr(request, "request_id", "-")
            user_id = getattr(request, "log_user_id", "-")
        record.request_id, record.user_id = request_id, user_id
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, user id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
            "user_id": getattr(record, "user_id", user_id_var.get()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)
