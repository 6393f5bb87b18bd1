"""Registries through which lower apps reach higher ones without importing them.

Each app registers, in its ``AppConfig.ready``:
- an exporter ``fn(user) -> JSON-serialisable data`` under a section name (GDPR export), and
- an eraser ``fn(user) -> None`` that removes what is only that user's (GDPR erasure).
Erasers run inside the erasure transaction in registration order; they queue external side effects
(storage deletes, Stripe calls) with ``transaction.on_commit``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Exporter = Callable[[Any], Any]
Eraser = Callable[[Any], None]

_exporters: dict[str, Exporter] = {}
_erasers: dict[str, Eraser] = {}


def register_exporter(section: str, fn: Exporter) -> None:
    _exporters[section] = fn


def register_eraser(name: str, fn: Eraser) -> None:
    _erasers[name] = fn


def exporters() -> dict[str, Exporter]:
    return dict(_exporters)


def erasers() -> dict[str, Eraser]:
    return dict(_erasers)


# Usage providers: billing reports usage against each plan limit without importing the apps that
# own the data. Each app registers ``fn(user) -> int`` under a limit name (see billing.entitlements):
# "projects", "storage_bytes" (projects app), "ai_tokens_month" (assistant app).
UsageProvider = Callable[[Any], int]
_usage: dict[str, UsageProvider] = {}


def register_usage(limit: str, fn: UsageProvider) -> None:
    _usage[limit] = fn


def usage_providers() -> dict[str, UsageProvider]:
    return dict(_usage)
