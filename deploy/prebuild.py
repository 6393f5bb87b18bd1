"""Zappa ``prebuild_script``: compile hash-based bytecode so a Lambda cold start does not recompile.

Zappa stamps every zip entry 1980-01-01, so the usual timestamp-checked ``.pyc`` files look stale
on Lambda and Python recompiles every module it imports on each cold start (and cannot even cache
the result: /var/task is read-only). Hash-based ``.pyc`` (PEP 552) do not depend on mtimes:

- our own code gets *checked* hashes: Python hashes the source and recompiles if it changed, so a
  stale ``__pycache__`` can never ship outdated code;
- site-packages get *unchecked* hashes (no read of the source at all). That is only safe in a
  venv built for deploying from pinned requirements, so it happens only in a venv carrying the
  ``.stackpro-deploy-venv`` marker (``make deploy-venv`` creates it); in any other venv the
  dependencies are left alone and only our code is compiled.

Run it by hand with ``python -m deploy.prebuild``.
"""

from __future__ import annotations

import importlib.util
import os
import py_compile
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("core", "accounts", "notifications", "billing", "projects", "assistant", "stackpro")
DEPLOY_VENV_MARKER = ".stackpro-deploy-venv"

_FLAGS = {
    py_compile.PycInvalidationMode.CHECKED_HASH: 0b11,
    py_compile.PycInvalidationMode.UNCHECKED_HASH: 0b01,
}


def _up_to_date(source: Path, mode: py_compile.PycInvalidationMode) -> bool:
    cached = Path(importlib.util.cache_from_source(str(source)))
    try:
        header = cached.read_bytes()[:16]
    except OSError:
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    if int.from_bytes(header[4:8], "little") != _FLAGS[mode]:
        return False
    return header[8:16] == importlib.util.source_hash(source.read_bytes())


def compile_tree(root: Path, mode: py_compile.PycInvalidationMode) -> tuple[int, int]:
    """Compile every .py under root; returns (compiled, already up to date). Syntax errors are skipped."""
    compiled = fresh = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for filename in filenames:
            if not filename.endswith(".py"):
                continue
            source = Path(dirpath) / filename
            if _up_to_date(source, mode):
                fresh += 1
                continue
            try:
                py_compile.compile(str(source), doraise=True, invalidation_mode=mode, quiet=2)
                compiled += 1
            except (py_compile.PyCompileError, OSError, ValueError):
                pass  # e.g. Python 2 files some packages ship as data: Python will never import them
    return compiled, fresh


def compile_bytecode() -> None:
    started = time.perf_counter()
    for package in PROJECT_PACKAGES:
        compile_tree(ROOT / package, py_compile.PycInvalidationMode.CHECKED_HASH)
    venv = Path(os.environ.get("VIRTUAL_ENV") or sys.prefix)
    site_packages = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    if (venv / DEPLOY_VENV_MARKER).exists():
        compiled, fresh = compile_tree(site_packages, py_compile.PycInvalidationMode.UNCHECKED_HASH)
        what = f"site-packages: {compiled} compiled, {fresh} up to date"
    else:
        what = f"site-packages left alone ({venv} is not a deploy venv: no {DEPLOY_VENV_MARKER})"
    print(f"prebuild: hash-based bytecode for our code; {what} ({time.perf_counter() - started:.1f}s)")


if __name__ == "__main__":
    compile_bytecode()
