"""What the assistant may know about a project: the one door from the assistant into the projects app.

Contract
--------
``project_context_for(*, project_id, user) -> ProjectContext | None``

- ``project_id is None`` → ``None`` (a conversation without a project).
- Otherwise the project is fetched through ``projects.selectors.project_get_for_user(project_id=,
  user=)``, which raises ``core.errors.NotFound`` for a project that does not exist *and* for one the
  user is not a member of (same 404, so ids cannot be probed). That error propagates unchanged:
  another tenant's project never reaches a prompt.
- While the projects app has no selector (it is built on another branch), every project id is
  ``NotFound``: no project conversation can be created and nothing leaks.
- The returned ``ProjectContext`` holds the project's name, description, member count, the list of
  its files, the text of small text files (``ASSISTANT_PROJECT_FILE_MAX_BYTES`` each, read through
  the storage backend), and ``content_version``: a string that changes whenever any of that
  changes (the response cache keys on it, so edits to files invalidate cached project answers).

``project_ensure_readable(*, project_id, user)`` is the cheap check used when a conversation is
created (no file reads).

Wiring: ``_context_from_project`` is the only function that reads the projects app's models. The
attribute names it uses are assumptions to confirm when the projects branch is merged (see
docs/assistant.md, "Project context").
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings

from core.errors import NotFound

logger = logging.getLogger(__name__)

TEXT_CONTENT_TYPES = ("text/", "application/json", "application/xml", "application/yaml", "application/x-yaml")
TEXT_EXTENSIONS = (
    ".txt", ".md", ".rst", ".csv", ".json", ".yaml", ".yml", ".toml", ".ini", ".py", ".js", ".ts",
    ".tsx", ".jsx", ".html", ".css", ".sql", ".sh", ".xml", ".go", ".rs", ".java", ".rb", ".php",
)  # fmt: skip

PROJECT_NOT_FOUND = "Project not found."


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


def _project_selector() -> Callable[..., Any] | None:
    """``projects.selectors.project_get_for_user`` when the projects app provides it, else None."""
    if not apps.is_installed("projects"):
        return None
    try:
        from projects import selectors  # type: ignore[attr-defined]
    except ImportError:
        return None
    return getattr(selectors, "project_get_for_user", None)


def _get_project(*, project_id: uuid.UUID, user: Any) -> Any:
    selector = _project_selector()
    if selector is None:
        raise NotFound(PROJECT_NOT_FOUND)
    return selector(project_id=project_id, user=user)  # raises NotFound for non-members


def project_ensure_readable(*, project_id: uuid.UUID, user: Any) -> None:
    """Raise ``NotFound`` unless ``user`` may read the project."""
    _get_project(project_id=project_id, user=user)


def project_context_for(*, project_id: uuid.UUID | None, user: Any) -> ProjectContext | None:
    """The project's context for a prompt, or None without a project; ``NotFound`` if not readable."""
    if project_id is None:
        return None
    project = _get_project(project_id=project_id, user=user)
    return _context_from_project(project)


def _read_small_text(file_obj: Any, limit: int) -> str | None:
    try:
        with file_obj.open("rb") as handle:
            raw = handle.read(limit + 1)
    except Exception as exc:  # noqa: BLE001 — a missing object must not break the chat
        logger.warning("could not read project file for assistant context: %s", exc)
        return None
    if len(raw) > limit:
        return None
    return raw.decode("utf-8", errors="replace")


def _context_from_project(project: Any) -> ProjectContext:  # pragma: no cover — wired after the merge
    """Build the context from a projects.Project. Assumed shape (confirm at merge):
    ``project.name``, ``project.description``, ``project.memberships`` (or ``members``) manager,
    ``project.files`` manager of rows with ``name``, ``size`` (bytes), ``content_type``, ``file``
    (a FieldFile) and ``updated_at``; ``project.updated_at``.
    """
    limit = settings.ASSISTANT_PROJECT_FILE_MAX_BYTES
    members = getattr(project, "memberships", None) or getattr(project, "members", None)
    member_count = members.count() if members is not None else 0
    files: list[ProjectFile] = []
    version = hashlib.sha256(f"{project.pk}|{project.name}|{project.description}".encode())
    file_manager = getattr(project, "files", None)
    rows = list(file_manager.all().order_by("name")) if file_manager is not None else []
    for row in rows:
        name = str(getattr(row, "name", "") or getattr(getattr(row, "file", None), "name", ""))
        size = int(getattr(row, "size", 0) or getattr(row, "size_bytes", 0) or 0)
        content_type = str(getattr(row, "content_type", "") or "")
        text = None
        if size <= limit and is_text_file(name, content_type) and getattr(row, "file", None):
            text = _read_small_text(row.file, limit)
        files.append(ProjectFile(name=name, size_bytes=size, content_type=content_type, text=text))
        version.update(f"|{row.pk}:{size}:{getattr(row, 'updated_at', '')}".encode())
    version.update(f"|members:{member_count}|{getattr(project, 'updated_at', '')}".encode())
    return ProjectContext(
        project_id=project.pk,
        name=str(project.name),
        description=str(getattr(project, "description", "") or ""),
        member_count=member_count,
        files=tuple(files),
        content_version=version.hexdigest()[:16],
    )
