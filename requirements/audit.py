"""Audit the lock files against the OSV vulnerability database (``make audit``).

pip-audit reads each lock as written (``--disable-pip``: nothing is resolved or installed) and asks OSV
about every pinned version. A vulnerability that has a fixed version fails the run: move the pin
(``make lock LOCK_ARGS="--upgrade-package NAME"``) or, if it cannot reach us, ignore it by id with a
reason in the commit (``make audit AUDIT_ARGS="--ignore-vuln ID"``). One without a fix is listed and
passes. Where OSV cannot be reached at all (some CI machines reach PyPI's package index and nothing
else) the audit says that nothing was audited and passes, unless ``AUDIT_STRICT=1``.

    python requirements/audit.py [--osv-url URL] [--ignore-vuln ID ...] requirements/*.lock
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import requests  # pip-audit's own HTTP client

OSV_URL = "https://api.osv.dev/v1/query"
UNREACHABLE_EXIT = 2


def unreachable(url: str, timeout: float = 5.0) -> str | None:
    """Why ``url`` cannot be reached, or None when it answers at all (any HTTP status)."""
    try:
        requests.post(url, json={}, timeout=timeout).close()
    except requests.RequestException as exc:
        return str(exc)
    return None


def pins(lock: Path) -> set[str]:
    """``name==version`` of each package the lock pins (names normalized as pip-audit prints them)."""
    found = set()
    for line in lock.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
        if match:
            found.add(f"{re.sub(r'[-_.]+', '-', match[1]).lower()}=={match[2]}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("locks", nargs="+", type=Path)
    parser.add_argument("--osv-url", default=os.environ.get("AUDIT_OSV_URL", OSV_URL))
    parser.add_argument("--ignore-vuln", action="append", default=[], metavar="ID")
    args = parser.parse_args(argv)
    strict = os.environ.get("AUDIT_STRICT", "").lower() in ("1", "true", "yes")
    names = ", ".join(str(lock) for lock in args.locks)

    reason = unreachable(args.osv_url)
    if reason is not None:
        print(f"audit: NOTHING AUDITED: {args.osv_url} cannot be reached ({reason}); lock files: {names}")
        return UNREACHABLE_EXIT if strict else 0

    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        command = [sys.executable, "-m", "pip_audit", "--vulnerability-service", "osv", "--osv-url", args.osv_url,
                   "--disable-pip", "--progress-spinner", "off", "--desc", "off", "--format", "json",
                   "--output", str(report)]  # fmt: skip
        for lock in args.locks:
            command += ["--requirement", str(lock)]
        for vuln_id in args.ignore_vuln:
            command += ["--ignore-vuln", vuln_id]
        run = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (our own argv)
        if not report.exists() or not report.read_text().strip():
            print(f"audit: pip-audit failed (exit {run.returncode}):\n{run.stderr.strip()}")
            return 1
        dependencies = json.loads(report.read_text())["dependencies"]

    where = {lock: pins(lock) for lock in args.locks}
    fixable = unfixed = 0
    for dependency in dependencies:
        for vuln in dependency.get("vulns", []):
            pin = f"{dependency['name']}=={dependency['version']}"
            locks = ", ".join(str(lock) for lock, pinned in where.items() if pin in pinned)
            aliases = f" ({', '.join(vuln['aliases'])})" if vuln.get("aliases") else ""
            fix = f"fixed in {', '.join(vuln['fix_versions'])}" if vuln["fix_versions"] else "no fix released"
            print(f"audit: {pin} {vuln['id']}{aliases}: {fix} [{locks}]")
            if vuln["fix_versions"]:
                fixable += 1
            else:
                unfixed += 1
    skipped = [d for d in dependencies if d.get("skip_reason")]
    for dependency in skipped:
        print(f"audit: not audited: {dependency['name']}: {dependency['skip_reason']}")
    audited = len(dependencies) - len(skipped)
    print(f"audit: {audited} packages in {len(args.locks)} lock files: "
          f"{fixable} vulnerabilities with a fix, {unfixed} without")  # fmt: skip
    if fixable:
        return 1
    return UNREACHABLE_EXIT if strict and skipped else 0


if __name__ == "__main__":
    sys.exit(main())
