"""System checks for settings that would be unsafe in any environment."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def cors_wildcard_with_credentials(app_configs: Any, **kwargs: Any) -> list[Error]:
    origins = list(getattr(settings, "CORS_ALLOWED_ORIGINS", []))
    if getattr(settings, "CORS_ALLOW_CREDENTIALS", False) and (
        "*" in origins or getattr(settings, "CORS_ALLOW_ALL_ORIGINS", False)
    ):
        return [Error("CORS must not allow every origin together with credentials.", id="core.E001")]
    return []
