"""The Lambda package fits its runtime (python3.12 on Amazon Linux 2023, x86_64): bytecode of that
Python, native extensions built for its ABI and its glibc, and the libraries the runtime does not give.

Zappa checks none of this: a package built by another Python ships bytecode the runtime cannot load
(Python silently falls back to the sources, or fails where only a sourceless .pyc exists), and a wheel
picked for the build host can need a newer glibc than Lambda's (cryptography's manylinux_2_34 wheel on
the python3.11 runtime's glibc 2.26: docs/serverless.md). The zip is the one test_packaged_handler.py
builds (same cache).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.servers import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.integration]

GLIBC_MAX = (2, 34)  # Amazon Linux 2023, the python3.12 and 3.13 runtimes
# The AWS APIs the app calls from Lambda: S3 (files), SQS (Celery), SES v2 (anymail), STS. The
# package keeps only their botocore models (zappa_settings.json exclude_glob; docs/serverless.md).
AWS_SERVICES = {"s3", "sqs", "sesv2", "sts"}


def test_bytecode_is_the_runtimes(package_dir: Path, runtime_python: str) -> None:
    magic = subprocess.run(
        [runtime_python, "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    pycs = list(package_dir.rglob("*.pyc"))
    assert len(pycs) > 1000, "the prebuild step wrote no bytecode"
    wrong = sorted(str(p.relative_to(package_dir)) for p in pycs if p.read_bytes()[:4].hex() != magic)
    assert not wrong, f"{len(wrong)} .pyc not from the runtime's Python ({magic}): {wrong[:10]}"


def test_no_module_is_compiled_at_a_cold_start(package_dir: Path) -> None:
    """Every module is bytecode Python loads as is (deploy/prebuild.py): ours and Zappa's with
    hash-based ``__pycache__`` entries, dependencies as sourceless ``.pyc`` (their ``__init__.py``
    with an unchecked-hash ``__pycache__`` entry, and so is every module of a ``migrations`` folder:
    ``django.db.migrations`` is one, imported at every start)."""
    bare = [
        str(source.relative_to(package_dir))
        for source in package_dir.glob("*/**/*.py")
        if "__pycache__" not in source.parts  # Zappa puts an empty __init__.py in every folder without one
        and source.stat().st_size  # (those, empty, cost nothing to compile)
        and not (source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc").exists()
    ]
    assert not bare, f"{len(bare)} sources without bytecode, compiled at every cold start: {bare[:10]}"


def _python_tag(name: str) -> str | None:
    """``cpython-312`` / ``abi3`` from an extension module's file name; None for a plain shared library."""
    match = re.search(r"\.(cpython-\d+[a-z]*-[^.]+|abi3)\.so$", name)
    return match.group(1) if match else None


def test_native_extensions_fit_the_runtime(package_dir: Path) -> None:
    objdump = shutil.which("objdump")
    assert objdump, "objdump (binutils) is needed to read the glibc versions the extensions require"
    libraries = [p for p in package_dir.rglob("*.so*") if p.is_file() and re.search(r"\.so(\.\d+)*$", p.name)]
    assert len(libraries) >= 10, libraries  # pydantic_core, cryptography, orjson, cffi, yaml, argon2...
    problems = []
    for library in libraries:
        name = str(library.relative_to(package_dir))
        tag = _python_tag(library.name)
        if tag is not None and not (tag == "abi3" or tag.startswith("cpython-312-x86_64-linux")):
            problems.append(f"{name}: built for {tag}, not CPython 3.12 x86_64")
        if tag is None and ".libs" not in name and not library.name.startswith("lib"):
            problems.append(f"{name}: an extension module without an ABI tag")
        header = subprocess.run([objdump, "-f", str(library)], capture_output=True, text=True, check=True).stdout
        if "x86-64" not in header:
            problems.append(f"{name}: not x86-64 ({header.strip().splitlines()[-2:]})")
        symbols = subprocess.run([objdump, "-T", str(library)], capture_output=True, text=True, check=True).stdout
        needed = {tuple(map(int, v.split("."))) for v in re.findall(r"GLIBC_(\d+\.\d+(?:\.\d+)?)", symbols)}
        newest = max(needed, default=(0,))
        if newest > GLIBC_MAX:
            problems.append(f"{name}: needs GLIBC_{'.'.join(map(str, newest))} (Lambda has 2.34)")
    assert not problems, "\n".join(problems)


def test_the_package_ships_cryptography_and_its_own_boto3(package_dir: Path) -> None:
    assert list((package_dir / "cryptography" / "hazmat" / "bindings").glob("_rust*.so"))
    pins = dict(
        line.split("==") for line in (ROOT / "requirements" / "base.txt").read_text().splitlines() if "==" in line
    )
    shipped = {p.name.removeprefix("boto3-").removesuffix(".dist-info") for p in package_dir.glob("boto3-*.dist-info")}
    assert shipped == {pins["boto3"]}, f"boto3 in the zip {shipped}, pinned {pins['boto3']} (docs/serverless.md)"
    models = {p.name for p in (package_dir / "botocore" / "data").iterdir() if p.is_dir()}
    assert models == AWS_SERVICES, f"botocore models shipped: {sorted(models)}"


def test_zappa_found_no_websocket_handler(package_dir: Path) -> None:
    """Zappa scans every .py under the project for ``zappa.websocket`` imports, skipping only folders
    named venv/env or hidden ones; a venv or unzipped package elsewhere under it (zappa/handler.py
    imports it) turns on WebSocket support: a WebSocket API on deploy and an import error at init."""
    assert "WEBSOCKET_HANDLER_MODULE" not in (package_dir / "zappa_settings.py").read_text()


# What would make compiling the stripe SDK with postponed annotations (deploy/prebuild.py) change its
# behaviour: reading annotations at run time.
ANNOTATION_READS = re.compile(r"__annotations__|get_type_hints|get_annotations|typing\.get_args|typing\.get_origin")


def test_stripe_is_compiled_with_postponed_annotations_and_never_reads_them(package_dir: Path) -> None:
    import __future__

    import marshal

    import stripe

    pycs = [p for p in (package_dir / "stripe").rglob("*.pyc")]
    assert len(pycs) > 500
    flag = __future__.annotations.compiler_flag
    without = [str(p) for p in pycs if not marshal.loads(p.read_bytes()[16:]).co_flags & flag]
    assert not without, without[:10]
    # The package's stripe release, read from its sources in this venv (the package keeps none).
    assert [d.name for d in package_dir.glob("stripe-*.dist-info")] == [f"stripe-{stripe.VERSION}.dist-info"]
    sources = list(Path(stripe.__file__).parent.rglob("*.py"))
    reads = [str(p) for p in sources if ANNOTATION_READS.search(p.read_text(encoding="utf-8"))]
    assert len(sources) > 500 and not reads, reads
