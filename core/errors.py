"""Domain errors: every error a service raises carries an HTTP status and a stable snake_case code.

Services raise these (not DRF exceptions) so management commands, tasks and webhooks can use them
too; ``core.exceptions.exception_handler`` renders them as the API's one JSON error body.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Base of every domain error. Subclasses set ``status_code``, ``code`` and ``message``."""

    status_code = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, code: str | None = None, **extra: Any) -> None:
        self.message = message or self.message
        if code:
            self.code = code
        # Extra keys are added to the error body (e.g. {"limit": "projects"}).
        self.extra = extra
        self.headers: dict[str, str] = {}
        super().__init__(self.message)


class InvalidInput(ApiError):
    status_code = 400
    code = "invalid"
    message = "The request is invalid."

    def __init__(self, message: str | None = None, *, fields: dict[str, list[str]] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.fields = fields or {}


class PermissionDenied(ApiError):
    status_code = 403
    code = "permission_denied"
    message = "You do not have permission to perform this action."


class NotFound(ApiError):
    status_code = 404
    code = "not_found"
    message = "Not found."


class Conflict(ApiError):
    status_code = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class PlanLimitExceeded(ApiError):
    """Raised when the user's plan does not allow more of something. ``limit`` names which."""

    status_code = 402
    code = "plan_limit_exceeded"

    def __init__(self, limit: str, message: str | None = None, **extra: Any) -> None:
        super().__init__(
            message or f"Your plan's limit on {limit.replace('_', ' ')} has been reached.", limit=limit, **extra
        )
        self.limit = limit


class RateLimited(ApiError):
    status_code = 429
    code = "throttled"
    message = "Too many requests."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None, **extra: Any) -> None:
        super().__init__(message, **extra)
        if retry_after is not None:
            self.headers["Retry-After"] = str(max(1, int(retry_after)))


class UpstreamError(ApiError):
    status_code = 502
    code = "upstream_error"
    message = "An upstream service failed."


class ServiceUnavailable(ApiError):
    status_code = 503
    code = "service_unavailable"
    message = "The service is temporarily unavailable. Please retry shortly."

    def __init__(self, message: str | None = None, *, retry_after: int = 5, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.headers["Retry-After"] = str(retry_after)


class UpstreamTimeout(ApiError):
    status_code = 504
    code = "upstream_timeout"
    message = "An upstream service did not answer in time."
