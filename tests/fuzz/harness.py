"""Fuzz the whole API from its OpenAPI schema with two users, and check neither reaches the other's objects.

Used by ``make fuzz`` (bench/fuzz/run_fuzz.py: fresh database, every phase, many examples) and by the
bounded CI test (tests/fuzz/test_fuzz_bounded.py: the pytest database, fixed seed, few examples).

1. ``fuzz_users``: two users (alice, bob), made in the database, with minted JWTs (for the cross-user
   pass); with ``login_path`` (``LOGIN_PATH``) ``write_auth_file`` has schemathesis log each user in
   itself (WFC ``loginEndpointAuth``). ``seed_objects`` gives each of them notifications, a project
   with a member and a pending invitation, and a project to transfer, whose ids schemathesis is
   handed (``SEEDED_PARAMETERS``).
2. ``run_schemathesis``: the schemathesis CLI against a running server, all phases (examples,
   coverage, fuzzing, stateful), all checks — including its ``object_level_authorization`` check,
   which replays one user's reads of their own objects as the other user (the WFC file lists both).
   ``schemathesis_hooks.py`` is loaded into it (our error body for its error feedback; a fresh
   Idempotency-Key per request).
3. ``cross_user_pass``: our own second look at object-level authorization, covering writes too.
   It harvests every object alice can reach (list operations, then the detail/sub-resource
   operations under them), then sends each of those requests — GET, PUT, PATCH, DELETE, POST — as
   bob and expects 404 ``not_found``; afterwards alice still reads her objects unchanged.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.servers import http

SCHEMA_PATH = "/api/schema/?format=json"
LOGIN_PATH = "/api/v1/auth/token/"  # accounts' login: {email, password} -> {access, refresh}
PHASES = "examples,coverage,fuzzing,stateful"
# Operations left out of fuzzing (regex on "METHOD /path"), each with a reason. Keep it short.
EXCLUDED_OPERATIONS: dict[str, str] = {}
# Schema-valid requests an operation rightly refuses (schemathesis' positive_data_acceptance check
# otherwise expects 2xx/401/403/404/409): the value's type and shape are right, but the business rule
# needs something no schema can promise — a correct password, a live token, a free plan slot.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
DOMAIN_REJECTIONS: dict[str, tuple[list[str], str]] = {
    "POST /api/v1/auth/register/": (["400"], "weak_password: Django's password validators"),
    "POST /api/v1/auth/verify-email/": (["400"], "token_invalid: a random token is not a live one"),
    "POST /api/v1/auth/password/change/": (["400"], "wrong_password / weak_password"),
    "POST /api/v1/auth/password/reset/confirm/": (["400"], "token_invalid / weak_password"),
    "DELETE /api/v1/auth/me/": (["400"], "wrong_password: deleting the account needs the password"),
    "PATCH /api/v1/auth/me/": (["400"], "wrong_password: changing the email needs the current password"),
    "POST /api/v1/auth/email/revert/": (["400"], "token_invalid: a random token is no email-change revert link"),
    "POST /api/v1/invitations/accept/": (["400"], "invitation_invalid: a random token is no invitation"),
    "GET /api/v1/notifications/unsubscribe/{token}/": (["400"], "unsubscribe_token_invalid (signed token)"),
    "POST /api/v1/notifications/unsubscribe/{token}/": (["400"], "unsubscribe_token_invalid (signed token)"),
    "POST /api/v1/billing/checkout/": (
        ["400"],
        "invalid_plan / invalid_redirect_url: plans are data, URLs an allow-list",
    ),
    "POST /api/v1/billing/portal/": (["400"], "invalid_redirect_url: return URLs must be on a frontend origin"),
    "POST /api/v1/projects/": (["402"], "plan_limit_exceeded: the Free plan's project count is reached"),
    "POST /api/v1/projects/{project_id}/members/": (
        ["400", "402"],
        "role owner: ownership moves through transfer/; plan_limit_exceeded: the Free plan's members per project",
    ),
    "PATCH /api/v1/projects/{project_id}/members/{member_id}/": (
        ["400"],
        "role owner: ownership moves through transfer/",
    ),
    "POST /api/v1/projects/{project_id}/transfer/": (
        ["400", "402"],
        "the new owner must already be a member; plan_limit_exceeded: the new owner's plan has no room for it",
    ),
    "POST /api/v1/projects/{project_id}/files/": (["400"], "an empty file (allow_empty_file=False)"),
    "PUT /api/v1/notifications/preferences/": (["400"], "preference_locked: security notifications stay on"),
}
# Teaches schemathesis' error feedback our error body, gives each request a fresh Idempotency-Key
# (see the module's docstring).
HOOKS_PATH = Path(__file__).with_name("schemathesis_hooks.py")
# Parameters that take a seeded object's id (``seed_objects``) in this share of the generated cases
# (schemathesis' fuzz dictionaries); the rest stay random, so "not found" is still tried.
SEEDED_PARAMETERS: dict[str, dict[str, str]] = {
    "PATCH /api/v1/projects/{project_id}/members/{member_id}/": {
        "path.project_id": "project",
        "path.member_id": "member",
    },
    "DELETE /api/v1/projects/{project_id}/members/{member_id}/": {
        "path.project_id": "project",
        "path.member_id": "member",
    },
    "DELETE /api/v1/projects/{project_id}/invitations/{invitation_id}/": {
        "path.project_id": "project",
        "path.invitation_id": "invitation",
    },
    "POST /api/v1/projects/{project_id}/members/": {"path.project_id": "project"},
    "POST /api/v1/projects/{project_id}/files/uploads/": {"path.project_id": "project"},
    "POST /api/v1/projects/{project_id}/transfer/": {
        "path.project_id": "transfer_project",
        "body.user_id": "member_user",
    },
}
SEEDED_SHARE = 0.5


def write_config_file(path: Path, seeded: dict[str, str] | None = None) -> Path:
    """schemathesis.toml: our hooks; each operation of ``DOMAIN_REJECTIONS`` also accepts its documented
    refusals; the ``SEEDED_PARAMETERS`` take the ``seeded`` ids (a one-entry dictionary each)."""
    lines = [f'hooks = "{HOOKS_PATH}"', ""]
    seeded = seeded or {}
    for key in sorted({key for params in SEEDED_PARAMETERS.values() for key in params.values()} & set(seeded)):
        lines += [f"[dictionaries.seeded-{key}]", f'values = ["{seeded[key]}"]', ""]
    for name in sorted(set(DOMAIN_REJECTIONS) | set(SEEDED_PARAMETERS)):
        settings = []
        if name in DOMAIN_REJECTIONS:
            statuses, reason = DOMAIN_REJECTIONS[name]
            expected = ", ".join(f'"{s}"' for s in ACCEPTED + statuses)
            settings += [f"# {reason}", f"checks.positive_data_acceptance.expected-statuses = [{expected}]"]
        bindings = [
            f'"{parameter}" = {{ dictionary = "seeded-{key}", probability = {SEEDED_SHARE} }}'
            for parameter, key in SEEDED_PARAMETERS.get(name, {}).items()
            if key in seeded
        ]
        if bindings:
            settings += [f"parameters = {{ {', '.join(bindings)} }}"]
        if settings:
            lines += ["[[operations]]", f'include-name = "{name}"', *settings, ""]
    path.write_text("\n".join(lines))
    return path


# What another tenant may get back when it names an object that is not theirs.
CROSS_USER_STATUSES = {404}
_ID_KEYS = ("id", "uuid", "pk")


@dataclass
class FuzzUser:
    name: str
    email: str
    password: str
    token: str


def server_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of the server under fuzz: the given database, no throttle or anti-timing delay in
    the way (they would turn the run into waiting), long tokens."""
    unlimited = "1000000/min"
    env = {
        "DATABASE_URL": database_url,
        "THROTTLE_USER": unlimited,
        "THROTTLE_ANON": unlimited,
        **{
            f"THROTTLE_{name}": unlimited
            for name in (
                "LOGIN",
                "LOGIN_IP",
                "REGISTER",
                "REGISTER_IP",
                "PASSWORD_RESET",
                "PASSWORD_RESET_IP",
                "VERIFY_RESEND",
                "VERIFY_RESEND_IP",
                "PASSWORD_CHECK",
            )
        },
        "ASSISTANT_SEND_RATE": unlimited,
        "ACCOUNTS_MIN_RESPONSE_SECONDS": "0",
        "JWT_ACCESS_MINUTES": "240",
        "API_DOCS_ACCESS": "public",
        "CACHE_KEY_PREFIX": f"fuzz-{os.getpid()}",
        # Upstreams are local fakes (fuzz_services): a slow answer is a bug, not a network.
        "ANTHROPIC_TIMEOUT_SECONDS": "5",
        "ASSISTANT_DEADLINE_SECONDS": "8",
        "STRIPE_TIMEOUT_SECONDS": "5",
    }
    return {**env, **(extra or {})}


# Stripe prices of the plan catalogue (billing/migrations/0001_initial.py), served by the fake.
STRIPE_PRICES = {"stackpro_pro_monthly": 1500, "stackpro_team_monthly": 4900}


@contextmanager
def fuzz_services(workdir: Path) -> Iterator[dict[str, str]]:
    """The upstreams the API calls, as local fakes: Anthropic (assistant sends), Stripe (checkout,
    portal, invoices), local file storage. Yields the server environment that points at them."""
    from tests.fakes.anthropic_server import FakeAnthropic
    from tests.fakes.stripe_server import FakeStripe

    anthropic = FakeAnthropic().start()
    stripe = FakeStripe().start()
    for lookup_key, amount in STRIPE_PRICES.items():
        stripe.add_price(lookup_key, amount)
    media = workdir / "media"
    media.mkdir(parents=True, exist_ok=True)
    try:
        yield {
            "ANTHROPIC_API_KEY": "sk-ant-fuzz",
            "ANTHROPIC_BASE_URL": anthropic.url,
            "STRIPE_API_BASE": stripe.url,
            "AWS_STORAGE_BUCKET_NAME": "",
            "MEDIA_ROOT": str(media),
        }
    finally:
        anthropic.stop()
        stripe.stop()


def ensure_plan_catalogue() -> None:
    """The plans billing's data migration creates (a transactional test elsewhere may have flushed them)."""
    import importlib

    from billing.models import Plan

    plans = importlib.import_module("billing.migrations.0001_initial").PLANS
    for plan in plans:
        Plan.objects.update_or_create(code=plan["code"], defaults=plan)


def pytest_database_url() -> str:
    """The database pytest set up (after ``django_db_setup``), as a URL for a server in another process."""
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    return f"mysql://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 3306}/{s['NAME']}"


def fuzz_users(password: str = "fuzz-password-0123456789") -> list[FuzzUser]:
    """Create (or reuse) alice and bob in the current Django database and mint their access tokens."""
    from django.contrib.auth import get_user_model
    from django.test.utils import override_settings
    from rest_framework_simplejwt.tokens import AccessToken

    User = get_user_model()
    users = []
    for name in ("alice", "bob"):
        email = f"{name}@fuzz.stackpro.test"
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=password, name=name.title(), email_verified=True)
        with override_settings():  # tokens as the server reads them (same SIMPLE_JWT settings module)
            token = str(AccessToken.for_user(user))
        users.append(FuzzUser(name=name, email=email, password=password, token=token))
    return users


# Objects each fuzz user has before the run, so that the operations on notification, member and
# invitation ids meet real ones. No operation creates a notification or a member (a member joins by
# an emailed token), so schemathesis had only random ids for them: 404 after 404.
SEED_NOTIFICATIONS = 10
SEED_HELPERS = {"alice": ("carol", "erin"), "bob": ("dave", "frank")}  # fuzz user: (member, invited)


@dataclass
class SeededObjects:
    counts: dict[str, int]
    ids: dict[str, str]  # the first fuzz user's: project, transfer_project, member, member_user, invitation


def seed_objects(users: list[FuzzUser]) -> SeededObjects:
    """For each fuzz user: ``SEED_NOTIFICATIONS`` in-app notifications; a project shared with a helper
    account that joined through a real invitation, with one more invitation pending; and a second
    project with the same helper, to be transferred (a transfer takes the owner's rights away).

    Made through the services, as the users' own actions would. The helpers are no fuzz users, so
    alice and bob still share nothing (the cross-user pass expects 404 everywhere). Idempotent: a
    user who already has the seeded projects keeps them. Returns what was made and the first user's
    ids, which ``write_config_file`` hands schemathesis (``SEEDED_PARAMETERS``).
    """
    from django.contrib.auth import get_user_model

    from notifications.services import notify
    from projects import services as projects
    from projects.models import Invitation, Membership, Project, Role

    User = get_user_model()
    counts = {"notifications": 0, "projects": 0, "members": 0, "invitations": 0}
    ids: dict[str, str] = {}
    for fuzz_user in users:
        owner = User.objects.get(email=fuzz_user.email)
        member_name, invited_name = SEED_HELPERS[fuzz_user.name]
        member = User.objects.filter(email=f"{member_name}@fuzz.stackpro.test").first() or User.objects.create_user(
            email=f"{member_name}@fuzz.stackpro.test", password=None, name=member_name.title(), email_verified=True
        )
        shared_name, transfer_name = (
            f"{fuzz_user.name.title()}'s shared project",
            f"{fuzz_user.name.title()}'s to transfer",
        )
        if not Project.objects.filter(owner=owner, name=shared_name).exists():
            for n in range(SEED_NOTIFICATIONS):
                notify(user=owner, category="project", title=f"Seeded notification {n + 1}")
                counts["notifications"] += 1
            for name in (shared_name, transfer_name):
                project = projects.project_create(owner=owner, name=name, description="Seeded for the fuzz run.")
                invitation = projects.member_invite(project=project, actor=owner, email=member.email, role=Role.EDITOR)
                projects.invitation_accept(user=member, token=invitation.token)  # type: ignore[attr-defined]
                counts["projects"] += 1
                counts["members"] += 1
            projects.member_invite(
                project=project_named(owner, shared_name),
                actor=owner,
                email=f"{invited_name}@fuzz.stackpro.test",
                role=Role.VIEWER,
            )
            counts["invitations"] += 1
        if ids:
            continue
        shared = project_named(owner, shared_name)
        ids = {
            "project": str(shared.pk),
            "transfer_project": str(project_named(owner, transfer_name).pk),
            "member": str(Membership.objects.get(project=shared, user=member).pk),
            "member_user": str(member.pk),
        }
        invitation = Invitation.objects.filter(project=shared, email__startswith=invited_name).first()
        if invitation is not None:
            ids["invitation"] = str(invitation.pk)
    return SeededObjects(counts=counts, ids=ids)


def project_named(owner: Any, name: str) -> Any:
    from projects.models import Project

    return Project.objects.get(owner=owner, name=name)


def write_auth_file(path: Path, users: list[FuzzUser], *, login_path: str | None = None) -> Path:
    """A Web Fuzzing Commons auth document listing both users (schemathesis ``--auth-wfc``)."""
    entries: list[dict[str, Any]] = []
    for user in users:
        if login_path:
            entries.append(
                {
                    "name": user.name,
                    "loginEndpointAuth": {
                        "endpoint": login_path,
                        "verb": "POST",
                        "contentType": "application/json",
                        "payloadUserPwd": {
                            "username": user.email,
                            "usernameField": "email",
                            "password": user.password,
                            "passwordField": "password",
                        },
                        "token": {
                            "extractFrom": "body",
                            "extractSelector": "/access",
                            "sendIn": "header",
                            "sendName": "Authorization",
                            "sendTemplate": "Bearer {token}",
                        },
                    },
                }
            )
        else:
            entries.append(
                {"name": user.name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {user.token}"}]}
            )
    path.write_text(json.dumps({"schemaVersion": "0.1.0", "auth": entries}, indent=2))
    return path


@dataclass
class FuzzResult:
    exit_code: int
    report: dict[str, Any]
    requests: int
    output: str
    report_dir: Path

    @property
    def failures(self) -> list[dict[str, Any]]:
        return list(self.report.get("failures", []))

    def summary(self) -> dict[str, Any]:
        operations = self.report.get("operations", {})
        cases = self.report.get("test_cases", {})
        return {
            "exit_code": self.exit_code,
            "operations_tested": operations.get("tested"),
            "operations_total": operations.get("total"),
            "test_cases": cases.get("generated"),
            "requests": self.requests,
            "failures": [(f.get("title"), f.get("count"), f.get("operations")) for f in self.failures],
            "errors": self.report.get("errors", []),
            "phases": {k: v.get("status") for k, v in self.report.get("phases", {}).items()},
            "seconds": self.report.get("running_time"),
        }


def run_schemathesis(
    base_url: str,
    auth_file: Path,
    *,
    max_examples: int,
    seed: int | None = None,
    deterministic: bool = False,
    phases: str = PHASES,
    max_time: int | None = None,
    workers: int = 1,
    report_dir: Path | None = None,
    extra_args: list[str] | None = None,
    seeded: dict[str, str] | None = None,
) -> FuzzResult:
    """Run the schemathesis CLI against ``base_url``; return its exit code, JSON report and request count."""
    report_dir = report_dir or Path(tempfile.mkdtemp(prefix="fuzz-report-"))
    report_dir.mkdir(parents=True, exist_ok=True)
    args = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(write_config_file(report_dir / "schemathesis.toml", seeded)),
        "run",
        f"{base_url}{SCHEMA_PATH}",
        "--url",
        base_url,
        "--auth-wfc",
        str(auth_file),
        "--phases",
        phases,
        "--checks",
        "all",
        "--max-examples",
        str(max_examples),
        "--workers",
        str(workers),
        "--request-timeout",
        "10",
        "--report",
        "json,har,junit",
        "--report-json-path",
        str(report_dir / "report.json"),
        "--report-har-path",
        str(report_dir / "requests.har"),
        "--report-junit-path",
        str(report_dir / "junit.xml"),
        "--no-color",
        "--suppress-health-check",
        "all",
    ]
    if deterministic:
        args += ["--generation-deterministic"]  # the same cases every run (implies no example database)
    else:
        args += ["--generation-database", "none"]
        if seed is not None:
            args += ["--seed", str(seed)]
    if max_time:
        args += ["--max-time", str(max_time)]
    for pattern in EXCLUDED_OPERATIONS:
        args += ["--exclude-name-regex", pattern]
    args += extra_args or []
    # cwd: schemathesis keeps its crash cache in ./.schemathesis/ — inside the report, not the repository.
    completed = subprocess.run(args, cwd=report_dir, capture_output=True, text=True, timeout=3600)  # noqa: S603
    (report_dir / "output.txt").write_text(completed.stdout + completed.stderr)
    report = _read_json(report_dir / "report.json")
    har = _read_json(report_dir / "requests.har")
    requests = len(har.get("log", {}).get("entries", [])) if har else 0
    return FuzzResult(completed.returncode, report, requests, completed.stdout + completed.stderr, report_dir)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# ------------------------------------------------------------------------------------------------
# Cross-user pass
# ------------------------------------------------------------------------------------------------
@dataclass
class CrossUserResult:
    objects: list[str] = field(default_factory=list)  # alice's concrete URLs harvested
    probes: int = 0
    violations: list[str] = field(default_factory=list)


def _ids(body: Any) -> list[str]:
    """Ids of the objects in a list page ({results: [...]}) or a bare list, or of one object."""
    items = body.get("results") if isinstance(body, dict) and "results" in body else body
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        return []
    return [str(item[k]) for item in items if isinstance(item, dict) for k in _ID_KEYS if k in item][:3]


def _templates(schema: dict[str, Any]) -> dict[str, set[str]]:
    prefix = ""
    servers = schema.get("servers") or []
    if servers and servers[0].get("url", "").startswith("/"):
        prefix = servers[0]["url"].rstrip("/")
    return {
        prefix + path: {m.upper() for m in ops if m.lower() in {"get", "put", "patch", "delete", "post"}}
        for path, ops in schema.get("paths", {}).items()
    }


def cross_user_pass(
    base_url: str, owner: FuzzUser, peer: FuzzUser, *, max_depth: int = 3, exclude: str | None = None
) -> CrossUserResult:
    """Everything ``owner`` reaches under a path parameter must be a 404 for ``peer`` (reads and writes).

    ``exclude``: a regex of path templates to leave out.
    """
    result = CrossUserResult()
    _, _, schema = http("GET", f"{base_url}{SCHEMA_PATH}")
    templates = {t: m for t, m in _templates(schema).items() if not (exclude and re.search(exclude, t))}
    as_owner = {"Authorization": f"Bearer {owner.token}"}
    as_peer = {"Authorization": f"Bearer {peer.token}"}
    param = re.compile(r"\{[^}]+\}")

    # Harvest: concrete URLs the owner can reach, filling one path parameter at a time with ids the
    # owner saw in the collection before it: projects/ → projects/{id}/ → projects/{id}/files/{id}/ …
    known: dict[str, list[str]] = {}  # concrete collection path → ids the owner sees there
    concrete: dict[str, str] = {}  # concrete object URL → its template
    partial = {t: t for t in templates if param.search(t)}  # partially filled → original template

    def gettable(path: str) -> bool:
        return any("GET" in methods and _same_shape(path, t) for t, methods in templates.items())

    for _ in range(max_depth + 1):
        prefixes = {p[: param.search(p).start()] for p in partial}
        to_visit = {t for t in templates if not param.search(t) and "GET" in templates[t]} | prefixes
        for path in sorted(to_visit - set(known)):
            known[path] = []
            if gettable(path):
                status, _, body = http("GET", f"{base_url}{path}", headers=as_owner)
                if status == 200:
                    known[path] = _ids(body)
        filled_now: dict[str, str] = {}
        for template, original in partial.items():
            match = param.search(template)
            assert match is not None
            for object_id in known.get(template[: match.start()], []):
                filled = template[: match.start()] + object_id + template[match.end() :]
                if param.search(filled):
                    filled_now[filled] = original
                else:
                    concrete[filled] = original
        partial = filled_now
        if not partial:
            break

    # Keep the URLs the owner really reaches, with what the owner sees there.
    before: dict[str, Any] = {}
    for url, template in concrete.items():
        if "GET" in templates[template]:
            status, _, body = http("GET", f"{base_url}{url}", headers=as_owner)
            if status == 200:
                before[url] = body
                result.objects.append(url)

    # Probe as the peer: reads first, then writes (which must change nothing).
    for url, template in concrete.items():
        for method in ("GET", "PUT", "PATCH", "POST", "DELETE"):
            if method not in templates[template]:
                continue
            body = {} if method in {"PUT", "PATCH", "POST"} else None
            status, _, answer = http(method, f"{base_url}{url}", body=body, headers=as_peer)
            result.probes += 1
            if status not in CROSS_USER_STATUSES:
                result.violations.append(f"{method} {url} as {peer.name}: {status} {str(answer)[:200]}")
    for url, seen in before.items():
        status, _, body = http("GET", f"{base_url}{url}", headers=as_owner)
        if status != 200 or body != seen:
            result.violations.append(f"{owner.name}'s {url} changed after {peer.name}'s probes: {status}")
    return result


def _same_shape(concrete_path: str, template: str) -> bool:
    pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
    return re.match(pattern, concrete_path) is not None
