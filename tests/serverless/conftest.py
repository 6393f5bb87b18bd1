"""Fixtures of the serverless tests: a moto server (real AWS APIs over HTTP on loopback), and the Lambda
package unzipped as Lambda does with the runtime's interpreter to run it (tests/serverless/packaged.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serverless.packaged import CACHE, source_hash, unzip_like_lambda
from tests.servers import ROOT, free_port


@pytest.fixture(scope="module")
def moto_endpoint(monkeypatch_module: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch_module.setenv(key, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    patcher = pytest.MonkeyPatch()
    yield patcher
    patcher.undo()


@pytest.fixture(scope="module")
def package_dir(runtime_python: str) -> Path:
    build = CACHE / source_hash()
    app = build / "app"
    if not (build / "unzipped.ok").exists():
        shutil.rmtree(build, ignore_errors=True)
        build.mkdir(parents=True)
        archive = build / "stackpro-dev.zip"
        result = subprocess.run(
            ["make", "--no-print-directory", "package", "STAGE=dev", f"PACKAGE={archive}"],
            cwd=ROOT, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert archive.stat().st_size < 40_000_000, "the zip grew past 40 MB: check zappa_settings.json excludes"
        unzip_like_lambda(archive, app)
        (build / "unzipped.ok").write_text(result.stdout)
    for old in CACHE.iterdir():  # keep the cache to the current build
        if old != build:
            shutil.rmtree(old, ignore_errors=True)
    return app


@pytest.fixture(scope="module")
def runtime_dir(package_dir: Path) -> Path:
    """What the python3.12 Lambda runtime adds to sys.path besides the package: ``snapshot_restore_py``
    (boto3 ships in the zip: docs/serverless.md)."""
    import snapshot_restore_py

    runtime = package_dir.parent / "runtime"
    if not runtime.exists():
        runtime.mkdir()
        (runtime / "snapshot_restore_py.py").symlink_to(snapshot_restore_py.__file__)
    return runtime


@pytest.fixture(scope="module")
def runtime_python() -> str:
    """The Lambda runtime's interpreter (deploy/runtime_python.py): it builds the package and runs it.
    Without it the package tests skip (under CI a skip fails the run: tests/skip_guard.py)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "runtime_python.py")], capture_output=True, text=True
    )
    if result.returncode:
        pytest.skip(result.stderr.strip() or result.stdout.strip())
    return result.stdout.strip()
