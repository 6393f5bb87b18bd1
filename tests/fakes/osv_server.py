"""A fake of the OSV API's ``POST /v1/query`` on a loopback port, for pip-audit (``--osv-url``).

It answers each ``{"package": {"name", "ecosystem"}, "version"}`` query with the advisories a test
registered for that name and version, in OSV's schema (id, aliases, summary, affected ranges whose
events carry the fixed version), and ``{}`` for everything else, as OSV does. Every query is recorded.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeOsv:
    def __init__(self) -> None:
        self.advisories: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.queries: list[dict[str, Any]] = []
        self.server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    def add(self, name: str, version: str, vuln_id: str, fixed: str | None, aliases: tuple[str, ...] = ()) -> None:
        """An advisory affecting ``name`` (canonical name) from ``version`` on, fixed in ``fixed`` or never."""
        events: list[dict[str, str]] = [{"introduced": version}] + ([{"fixed": fixed}] if fixed else [])
        self.advisories.setdefault((name, version), []).append(
            {
                "schema_version": "1.6.0",
                "id": vuln_id,
                "aliases": list(aliases),
                "summary": f"test advisory for {name}",
                "published": "2026-01-01T00:00:00Z",
                "affected": [
                    {
                        "package": {"name": name, "ecosystem": "PyPI"},
                        "ranges": [{"type": "ECOSYSTEM", "events": events}],
                        "versions": [version],
                    }
                ],
            }
        )

    def start(self) -> FakeOsv:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.path != "/v1/query" or "package" not in body:
                    self._send(400, {"code": 3, "message": "Invalid query."})
                    return
                with fake._lock:
                    fake.queries.append(body)
                vulns = fake.advisories.get((body["package"]["name"], body.get("version", "")), [])
                self._send(200, {"vulns": vulns} if vulns else {})

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, name="fake-osv", daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1/query"
