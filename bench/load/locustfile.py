"""A realistic StackPro user, for locust (driven by bench/load/run.py; see docs/performance.md).

Each simulated user signs in once (most log in to a seeded account; a share registers), then with
think time: polls the unread-notification count (the most frequent call), lists projects, opens
one, lists its files, lists notifications, and now and then creates a project, starts an upload or
sends an assistant message (verified accounts only: a freshly registered one has not clicked its
verification link, and the assistant refuses unverified accounts).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

PASSWORD = os.environ.get("LOAD_PASSWORD", "load-test-password-2026")
SEEDED_USERS = int(os.environ.get("LOAD_SEEDED_USERS", "1000"))
REGISTER_SHARE = float(os.environ.get("LOAD_REGISTER_SHARE", "0.05"))
# The first simulated user always registers, so even a 5-user smoke run hits every endpoint.
REGISTER_FIRST = os.environ.get("LOAD_REGISTER_FIRST", "1") == "1"
# Sign-ins happen during the ramp, and locust's --reset-stats drops the ramp: their response times
# are kept here too and written to this JSON file at the end (run.py reports them separately).
AUTH_STATS_FILE = os.environ.get("LOAD_AUTH_STATS", "")
AUTH_NAMES = ("auth:login", "auth:register")
_auth_samples: dict[str, list[float]] = {name: [] for name in AUTH_NAMES}
_all_requests: dict[str, int] = {}  # every endpoint over the whole run, ramp included
_all_errors: dict[str, int] = {}
WAIT_MIN = float(os.environ.get("LOAD_WAIT_MIN", "3"))
WAIT_MAX = float(os.environ.get("LOAD_WAIT_MAX", "9"))
QUESTIONS = ["Summarise my week.", "What is in my project?", "Draft a status update."]
# Smoke runs: each user also runs every task once at start, so every endpoint is surely hit.
EVERY_TASK_ONCE = os.environ.get("LOAD_EVERY_TASK_ONCE", "0") == "1"
_seq = itertools.count()


class StackProUser(FastHttpUser):
    wait_time = between(WAIT_MIN, WAIT_MAX)

    def on_start(self) -> None:
        n = next(_seq)
        # Seeded accounts are verified; a new one is not until its owner follows the emailed link,
        # and the assistant refuses unverified writes (403 email_not_verified, accounts.permissions).
        self.verified = True
        if (REGISTER_FIRST and n == 0) or random.random() < REGISTER_SHARE:
            self.verified = False
            email = f"load-new-{uuid.uuid4().hex[:12]}@example.com"
            self.client.post(
                "/api/v1/auth/register/",
                json={"email": email, "password": PASSWORD, "name": "Load Tester"},
                name="auth:register",
            )
        else:
            email = f"load{n % SEEDED_USERS}@example.com"
        with self.client.post(
            "/api/v1/auth/token/", json={"email": email, "password": PASSWORD}, name="auth:login", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"login {response.status_code}")
                self.access = ""
                return
            self.access = response.json()["access"]
        self.headers = {"Authorization": f"Bearer {self.access}"}
        self.project_ids: list[str] = []
        self.writable_ids: list[str] = []  # owner or editor: may start uploads
        self._refresh_projects()
        if not self.project_ids:
            self._create_project(keep=True)
        if EVERY_TASK_ONCE:
            for task_fn in (
                self.unread_count,
                self.list_projects,
                self.open_project,
                self.list_files,
                self.list_notifications,
                self.create_project,
                self.start_upload,
                self.ask_assistant,
            ):
                task_fn()

    # -- helpers -------------------------------------------------------------------------------
    def _refresh_projects(self) -> None:
        response = self.client.get("/api/v1/projects/?limit=20", headers=self.headers, name="projects:list")
        if response.status_code == 200:
            results = response.json()["results"]
            self.project_ids = [p["id"] for p in results]
            self.writable_ids = [p["id"] for p in results if p["role"] in ("owner", "editor")]

    def _create_project(self, keep: bool) -> None:
        response = self.client.post(
            "/api/v1/projects/",
            json={"name": f"Project {uuid.uuid4().hex[:6]}", "description": "made by the load test"},
            headers=self.headers,
            name="projects:create",
        )
        if response.status_code == 201:
            project_id = response.json()["id"]
            if keep:
                self.project_ids.append(project_id)
                self.writable_ids.append(project_id)
            else:  # stay under the Free plan's project limit
                self.client.delete(f"/api/v1/projects/{project_id}/", headers=self.headers, name="projects:delete")

    def _project(self) -> str | None:
        return random.choice(self.project_ids) if self.project_ids else None

    # -- what a user does ------------------------------------------------------------------------
    @task(10)
    def unread_count(self) -> None:
        self.client.get("/api/v1/notifications/unread-count/", headers=self.headers, name="notifications:unread-count")

    @task(5)
    def list_projects(self) -> None:
        self._refresh_projects()

    @task(3)
    def open_project(self) -> None:
        if project := self._project():
            self.client.get(f"/api/v1/projects/{project}/", headers=self.headers, name="projects:detail")

    @task(3)
    def list_files(self) -> None:
        if project := self._project():
            self.client.get(f"/api/v1/projects/{project}/files/", headers=self.headers, name="projects:files")

    @task(3)
    def list_notifications(self) -> None:
        self.client.get("/api/v1/notifications/", headers=self.headers, name="notifications:list")

    @task(1)
    def create_project(self) -> None:
        self._create_project(keep=False)

    @task(1)
    def start_upload(self) -> None:
        # A presigned POST to S3 (moto here); viewers may not upload, so only writable projects.
        if self.writable_ids:
            project = random.choice(self.writable_ids)
            self.client.post(
                f"/api/v1/projects/{project}/files/uploads/",
                json={"name": "report.pdf", "size": 120_000, "content_type": "application/pdf"},
                headers=self.headers,
                name="projects:upload-start",
            )

    @task(1)
    def ask_assistant(self) -> None:
        if not self.verified:  # as the app does: "verify your email address first"
            return
        with self.client.post(
            "/api/v1/assistant/conversations/",
            json={"title": "Load"},
            headers=self.headers,
            name="assistant:create",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"create conversation {response.status_code}")
                return
            conversation = response.json()["id"]
        self.client.post(
            f"/api/v1/assistant/conversations/{conversation}/messages/",
            # A unique question: a repeated one would be a response-cache hit, with no upstream call.
            json={"content": f"{random.choice(QUESTIONS)} (ref {uuid.uuid4().hex[:8]})"},
            headers=self.headers,
            name="assistant:send",
        )


@events.request.add_listener
def _record_auth(name: str, response_time: float, exception: Exception | None = None, **_kw) -> None:  # type: ignore[no-untyped-def]
    _all_requests[name] = _all_requests.get(name, 0) + 1
    if exception is not None:
        _all_errors[name] = _all_errors.get(name, 0) + 1
    if name in _auth_samples:
        _auth_samples[name].append(response_time)


@events.quitting.add_listener
def _report(environment, **_kw) -> None:  # type: ignore[no-untyped-def]
    environment.process_exit_code = 0  # run.py judges the figures itself
    if AUTH_STATS_FILE:
        with open(AUTH_STATS_FILE, "w") as handle:
            json.dump({"samples": _auth_samples, "requests": _all_requests, "errors": _all_errors}, handle)
