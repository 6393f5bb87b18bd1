"""What the assistant may know about a project: the one door from the assistant into the projects app.

``project_context_for(*, project_id, user) -> ProjectContext | None``: ``None`` without a project;
otherwise the project comes through ``projects.selectors.project_get_for_user``, whose 404 for a
project that does not exist *or* is not the user's propagates unchanged, so another tenant's
project never reaches a prompt. The context holds the name, description, member count, the files,
the text of small text files (``ASSISTANT_PROJECT_FILE_MAX_BYTES`` each, through the storage
backend) and ``content_version``, which changes whenever any of that changes (the response cache
keys on it). ``project_ensure_readable`` is the cheap check when a conversation is created.
``_context_from_project`` is the only function that reads the projects app.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage

from projects.selectors import file_list, project_get_for_user

logger = logging.getLogger(__name__)

TEXT_CONTENT_TYPES = ("text/", "application/json", "application/xml", "application/yaml", "application/x-yaml")
TEXT_EXTENSIONS = (
    ".txt", ".md", ".rst", ".csv", ".json", ".yaml", ".yml", ".toml", ".ini", ".py", ".js", ".ts",
    ".tsx", ".jsx", ".html", ".css", ".sql", ".sh", ".xml", ".go", ".rs", ".java", ".rb", ".php",
)  # fmt: skip


@dataclass(frozen=True)
class ProjectFile:
    name: str
    size_bytes: int
    content_type: str = ""
    text: str | None = None  # the content of a small text file, else None


@dataclass(frozen=True)
class ProjectContext:
    project_id: uuid.UUID
    name: str
    description: str
    member_count: int
    files: tuple[ProjectFile, ...] = field(default_factory=tuple)
    content_version: str = ""


def is_text_file(name: str, content_type: str) -> bool:
    lowered = (content_type or "").lower()
    return lowered.startswith(TEXT_CONTENT_TYPES) or name.lower().endswith(TEXT_EXTENSIONS)


def _get_project(*, project_id: uuid.UUID, user: Any) -> Any:
    return project_get_for_user(project_id=project_id, user=user)  # raises NotFound for non-members


def project_ensure_readable(*, project_id: uuid.UUID, user: Any) -> None:
    """Raise ``NotFound`` unless ``user`` may read the project."""
    _get_project(project_id=project_id, user=user)


def project_context_for(*, project_id: uuid.UUID | None, user: Any) -> ProjectContext | None:
    """The project's context for a prompt, or None without a project; ``NotFound`` if not readable."""
    if project_id is None:
        return None
    project = _get_project(project_id=project_id, user=user)
    return _context_from_project(project)


def _read_small_text(key: str, limit: int) -> str | None:
    try:
        with default_storage.open(key, "rb") as handle:
            raw = handle.read(limit + 1)
    except Exception as exc:  # noqa: BLE001 — a missing object must not break the chat
        logger.warning("could not read project file for assistant context: %s", exc)
        return None
    if len(raw) > limit:
        return None
    return raw.decode("utf-8", errors="replace")


def _context_from_project(project: Any) -> ProjectContext:
    """Build the context from a ``projects.Project`` the user may read: its ready files only, text
    read through the storage backend for small text files."""
    limit = settings.ASSISTANT_PROJECT_FILE_MAX_BYTES
    member_count = project.memberships.count()
    files: list[ProjectFile] = []
    version = hashlib.sha256(f"{project.pk}|{project.name}|{project.description}".encode())
    for row in file_list(project=project, ordering="name"):
        text = None
        if row.size <= limit and is_text_file(row.name, row.content_type):
            text = _read_small_text(row.key, limit)
        files.append(ProjectFile(name=row.name, size_bytes=row.size, content_type=row.content_type, text=text))
        version.update(f"|{row.pk}:{row.size}:{row.updated_at.isoformat()}".encode())
    version.update(f"|members:{member_count}|{project.updated_at.isoformat()}".encode())
    return ProjectContext(
        project_id=project.pk,
        name=project.name,
        description=project.description or "",
        member_count=member_count,
        files=tuple(files),
        content_version=version.hexdigest()[:16],
    )
