"""The lock files (``make lock``) and their audit (``make audit``, requirements/audit.py).

Each ``requirements/NAME.txt`` has a ``NAME.lock`` pinning the whole closure with hashes and nothing
else (no index, mirror or local path); a pin changed or added in a ``.txt`` without ``make lock`` fails
here. The audit runs the real pip-audit against a fake OSV server on a loopback port.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import Marker

from tests.fakes.osv_server import FakeOsv
from tests.servers import ROOT

REQUIREMENTS = ROOT / "requirements"
INPUTS = sorted(REQUIREMENTS.glob("*.txt"))
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_entries(lock: Path) -> list[tuple[str, str, str | None, list[str], str]]:
    """(name, version, marker, hashes, annotation) for each pinned package of a lock file."""
    entries: list[tuple[str, str, str | None, list[str], str]] = []
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            entries.append((canonical(match[1]), match[2], match[3], [], ""))
        elif line.strip().startswith("--hash=sha256:"):
            entries[-1][3].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
        elif line.strip().startswith("#") and entries:
            entries[-1] = (*entries[-1][:4], entries[-1][4] + line)
    return entries


def direct_pins(txt: Path) -> dict[str, str]:
    """name -> version pinned by a requirements input, following its ``-r`` includes."""
    pins: dict[str, str] = {}
    for line in txt.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins |= direct_pins(txt.parent / line.removeprefix("-r ").strip())
        elif line:
            match = PIN.match(line)
            assert match, f"{txt.name}: {line!r} is not pinned with =="
            pins[canonical(match[1])] = match[2]
    return pins


@pytest.mark.parametrize("txt", INPUTS, ids=lambda p: p.name)
def test_each_input_has_a_lock_with_its_pins_and_nothing_it_dropped(txt):
    lock = txt.with_suffix(".lock")
    assert lock.exists(), f"{lock.name} is missing: run make lock"
    wanted = direct_pins(txt)
    locked = {name: version for name, version, *_ in lock_entries(lock)}
    stale = {name: (version, locked.get(name)) for name, version in wanted.items() if locked.get(name) != version}
    assert not stale, f"{txt.name} pins differ from {lock.name} (pinned, locked): {stale}: run make lock"
    # A package the lock says an input asked for that the inputs no longer pin: removed without make lock.
    asked = {name for name, _, _, _, via in lock_entries(lock) if "-r requirements/" in via}
    assert asked <= set(wanted), f"{lock.name} still pins {asked - set(wanted)} for {txt.name}: run make lock"


@pytest.mark.parametrize("lock", sorted(REQUIREMENTS.glob("*.lock")), ids=lambda p: p.name)
def test_a_lock_names_packages_versions_and_hashes_only(lock):
    entries = lock_entries(lock)
    assert entries
    assert all(len(hashes) >= 1 and all(len(h) == 64 for h in hashes) for *_, hashes, _ in entries)
    for line in lock.read_text().splitlines():
        content = line.split("#", 1)[0].strip()
        assert not content.startswith("-") or content.startswith("--hash=sha256:"), f"{lock.name}: {line}"
        assert "://" not in content and "/" not in content.removeprefix("--hash=sha256:"), f"{lock.name}: {line}"


def test_a_package_has_one_version_in_every_lock():
    versions: dict[str, set[str]] = {}
    for lock in REQUIREMENTS.glob("*.lock"):
        for name, version, *_ in lock_entries(lock):
            versions.setdefault(name, set()).add(version)
    assert {name: v for name, v in versions.items() if len(v) > 1} == {}


def test_the_lambda_set_has_no_server_no_native_mysql_driver_and_no_s3_encryption_client():
    deploy = {name for name, *_ in lock_entries(REQUIREMENTS / "deploy.lock")}
    assert {"zappa", "pymysql", "django", "cryptography"} <= deploy
    assert not {"gunicorn", "mysqlclient", "amazon-s3-encryption-client-python"} & deploy
    assert "gunicorn" in {name for name, *_ in lock_entries(REQUIREMENTS / "server.lock")}
    assert "gunicorn" in {name for name, *_ in lock_entries(REQUIREMENTS / "dev.lock")}


# ---------------------------------------------------------------------------------------------------
# The audit: real pip-audit, a fake OSV
# ---------------------------------------------------------------------------------------------------
BASE_LOCK = REQUIREMENTS / "base.lock"
DJANGO = next(version for name, version, *_ in lock_entries(BASE_LOCK) if name == "django")


@pytest.fixture
def osv():
    fake = FakeOsv().start()
    yield fake
    fake.stop()


def audit(*args: str, strict: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUDIT_STRICT": "1" if strict else ""}
    return subprocess.run(
        [sys.executable, str(REQUIREMENTS / "audit.py"), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_audit_fails_on_a_vulnerability_with_a_fix_and_names_the_locks(osv):
    osv.add("django", DJANGO, "PYSEC-0000-1", fixed="99.0", aliases=("CVE-0000-1",))
    result = audit("--osv-url", osv.url, "requirements/base.lock", "requirements/mysql.lock")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"django=={DJANGO} PYSEC-0000-1 (CVE-0000-1): fixed in 99.0 [requirements/base.lock]" in result.stdout
    # Every package the lock pins for this interpreter was asked about (and mysql.lock's too).
    queried = {(q["package"]["name"], q["version"]) for q in osv.queries}
    pinned = {(n, v) for n, v, marker, *_ in lock_entries(BASE_LOCK) if marker is None or Marker(marker).evaluate()}
    assert pinned <= queried
    assert "mysqlclient" in {name for name, _ in queried}


def test_audit_lists_a_vulnerability_without_a_fix_and_passes(osv):
    osv.add("django", DJANGO, "GHSA-0000-0000-0001", fixed=None)
    result = audit("--osv-url", osv.url, "requirements/base.lock")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"django=={DJANGO} GHSA-0000-0000-0001: no fix released" in result.stdout
    assert "0 vulnerabilities with a fix, 1 without" in result.stdout


def test_audit_can_ignore_a_vulnerability_by_id(osv):
    osv.add("django", DJANGO, "PYSEC-0000-2", fixed="99.0")
    result = audit("--osv-url", osv.url, "--ignore-vuln", "PYSEC-0000-2", "requirements/base.lock")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 vulnerabilities with a fix, 0 without" in result.stdout


def test_audit_without_osv_says_nothing_was_audited_and_fails_only_when_strict(osv):
    url = osv.url
    osv.stop()
    relaxed = audit("--osv-url", url, "requirements/base.lock")
    assert relaxed.returncode == 0
    assert "NOTHING AUDITED" in relaxed.stdout and "base.lock" in relaxed.stdout
    assert audit("--osv-url", url, "requirements/base.lock", strict=True).returncode == 2
