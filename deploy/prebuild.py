"""Zappa ``prebuild_script``: compile hash-based bytecode so a Lambda cold start does not recompile.

Zappa stamps every zip entry 1980-01-01, so the usual timestamp-checked ``.pyc`` files look stale
on Lambda and Python recompiles every module it imports on each cold start (and cannot even cache
the result: /var/task is read-only). Hash-based ``.pyc`` (PEP 552) do not depend on mtimes:

- our own code gets *checked* hashes: Python hashes the source and recompiles if it changed, so a
  stale ``__pycache__`` can never ship outdated code;
- site-packages get *sourceless* bytecode: a legacy ``module.pyc`` (unchecked hash) replaces each
  ``module.py`` except ``__init__.py``, which keeps its source and gets an unchecked-hash
  ``__pycache__`` entry; pip's timestamp ``__pycache__`` files go, which saves ~9 MB zipped;
  Python imports the ``.pyc`` directly. The price: tracebacks inside dependencies show no source
  lines. ``zappa`` (whose ``handler.py`` Zappa copies) keeps its sources with unchecked-hash
  ``__pycache__``. A folder named ``migrations`` keeps its sources too (Zappa drops a legacy ``.pyc``
  there and always ships the ``.py``), with unchecked-hash ``__pycache__`` entries: ``django.db.migrations``
  is such a folder, imported at every start (~5 modules compiled per cold start without them).
  This rewrites the venv, so it happens only in a venv carrying the ``.stackpro-deploy-venv`` marker
  (``make lambda-venv`` creates it); in any other venv the dependencies are left alone.

- ``stripe`` is compiled with postponed evaluation of annotations (PEP 563, as if each module began
  with ``from __future__ import annotations``): dj-stripe's model classes import ~100 of the SDK's
  resource modules at start-up, whose class bodies annotate hundreds of fields (``Optional[...]``,
  ``Literal[...]``, forward references), and evaluating them was ~half of those modules' import time
  (~50 ms of a plain cold start here: docs/performance.md). The SDK never reads its annotations at
  run time; tests/serverless/test_package_audit.py checks that this stays so and that the flag is
  set, and the packaged handler drives the SDK against a fake Stripe.

The bytecode is the running interpreter's: the Lambda venv is made by the runtime's Python
(deploy/runtime_python.py), and tests/serverless/test_package_audit.py checks the magic number.

Run it by hand with ``python -m deploy.prebuild``.
"""

from __future__ import annotations
import __future__

import importlib.util
import marshal
import os
import py_compile
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("core", "accounts", "notifications", "billing", "projects", "assistant", "console", "stackpro")
DEPLOY_VENV_MARKER = ".stackpro-deploy-venv"
# Kept as sources with hash-based __pycache__: Zappa (it copies handler.py).
KEEP_SOURCES = {"zappa"}
# Compiled with postponed evaluation of annotations (they are never read at run time).
POSTPONED_ANNOTATIONS = {"stripe"}

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


def compile_sourceless(site_packages: Path) -> tuple[int, int]:
    """Legacy ``x.pyc`` beside every ``x.py`` (newer than it) and no source; a package's
    ``__init__.py`` keeps its source with an unchecked-hash ``__pycache__`` entry. Returns counts."""
    import shutil

    mode = py_compile.PycInvalidationMode.UNCHECKED_HASH
    compiled = fresh = 0
    for top in sorted(site_packages.iterdir()):
        if top.name in KEEP_SOURCES or top.name.endswith((".dist-info", ".egg-info")):
            continue
        paths = [top] if top.is_file() else [Path(d) for d, _, _ in os.walk(top)]
        for directory in paths:
            if directory.name == "__pycache__":  # pip's timestamp bytecode: useless on Lambda
                for cached in directory.iterdir():
                    if not _is_our_cache(cached, mode):
                        cached.unlink()
                continue
            if directory.is_file():
                sources = [directory] if directory.suffix == ".py" else []
            elif not directory.exists():
                continue
            else:
                sources = [p for p in directory.iterdir() if p.suffix == ".py" and p.is_file()]
            for source in sources:
                # Zappa adds an *empty* __init__.py to a package folder without one, so __init__.py
                # keeps its source, and its bytecode goes where Python looks for it: __pycache__
                # (otherwise ~800 of them are compiled at every cold start, ~25 ms). The same for
                # every module of a migrations folder, whose sources Zappa always ships.
                keeps_source = source.name == "__init__.py" or directory.name == "migrations"
                if keeps_source:
                    source.with_suffix(".pyc").unlink(missing_ok=True)  # where earlier builds put it
                cfile = (
                    importlib.util.cache_from_source(str(source)) if keeps_source else str(source.with_suffix(".pyc"))
                )
                if _up_to_date(source, mode) if keeps_source else _legacy_up_to_date(source, Path(cfile)):
                    fresh += 1
                else:
                    try:
                        if top.name in POSTPONED_ANNOTATIONS:
                            compile_postponed(source, Path(cfile))
                        else:
                            py_compile.compile(str(source), cfile=cfile, doraise=True, invalidation_mode=mode, quiet=2)
                        compiled += 1
                    except (py_compile.PyCompileError, SyntaxError, OSError, ValueError):
                        continue  # not Python 3 (data files some packages ship): leave it alone
                # Zappa drops a .py only when its .pyc is newer, but copies files without their
                # times: remove the source instead.
                if not keeps_source:
                    source.unlink()
        for pycache in [] if top.is_file() else top.rglob("__pycache__"):
            if not any(pycache.iterdir()):
                shutil.rmtree(pycache, ignore_errors=True)
    return compiled, fresh


def compile_postponed(source: Path, cfile: Path) -> None:
    """An unchecked-hash ``.pyc`` of ``source`` compiled as under ``from __future__ import annotations``."""
    data = source.read_bytes()
    code = compile(data, str(source), "exec", flags=__future__.annotations.compiler_flag, dont_inherit=True)
    header = importlib.util.MAGIC_NUMBER + _FLAGS[py_compile.PycInvalidationMode.UNCHECKED_HASH].to_bytes(4, "little")
    cfile.parent.mkdir(parents=True, exist_ok=True)
    cfile.write_bytes(header + importlib.util.source_hash(data) + marshal.dumps(code))


def _is_our_cache(cached: Path, mode: py_compile.PycInvalidationMode) -> bool:
    """``__pycache__/<module>.<tag>.pyc`` written by this script for the current source: an
    ``__init__.py``, or any module of a ``migrations`` folder."""
    source = cached.parent.parent / (cached.name.split(".", 1)[0] + ".py")
    return (
        (source.name == "__init__.py" or source.parent.name == "migrations")
        and source.is_file()
        and str(cached) == importlib.util.cache_from_source(str(source))
        and _up_to_date(source, mode)
    )


def _legacy_up_to_date(source: Path, legacy: Path) -> bool:
    try:
        header = legacy.read_bytes()[:16]
        if legacy.stat().st_mtime <= source.stat().st_mtime:
            return False
    except OSError:
        return False
    return (
        header[:4] == importlib.util.MAGIC_NUMBER
        and int.from_bytes(header[4:8], "little") == _FLAGS[py_compile.PycInvalidationMode.UNCHECKED_HASH]
        and header[8:16] == importlib.util.source_hash(source.read_bytes())
    )


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
        compiled, fresh = compile_sourceless(site_packages)
        for name in KEEP_SOURCES:
            if (site_packages / name).is_dir():
                compile_tree(site_packages / name, py_compile.PycInvalidationMode.UNCHECKED_HASH)
        what = f"site-packages (sourceless): {compiled} compiled, {fresh} up to date"
    else:
        what = f"site-packages left alone ({venv} is not a deploy venv: no {DEPLOY_VENV_MARKER})"
    print(f"prebuild: hash-based bytecode for our code; {what} ({time.perf_counter() - started:.1f}s)")


if __name__ == "__main__":
    compile_bytecode()
