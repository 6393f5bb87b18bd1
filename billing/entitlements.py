"""What a plan allows: the limits every app enforces."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Entitlements:
    plan_code: str
    plan_name: str
    max_projects: int
    max_members_per_project: int
    max_file_size_bytes: int
    max_storage_bytes: int
    ai_tokens_per_month: int
    api_rate_tier: str


FREE = Entitlements(
    plan_code="free",
    plan_name="Free",
    max_projects=3,
    max_members_per_project=3,
    max_file_size_bytes=10 * MB,
    max_storage_bytes=100 * MB,
    ai_tokens_per_month=50_000,
    api_rate_tier="standard",
)
