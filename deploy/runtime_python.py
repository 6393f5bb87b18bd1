"""Find the interpreter of the Lambda runtime (``runtime`` in zappa_settings.json) to build the package.

The package's bytecode and its wheels must match the runtime's Python (a .pyc carries its minor
version's magic number), and Zappa does not check it. Looks for ``pythonX.Y`` on PATH (a pyenv shim
that cannot run it is skipped), then in ``$(pyenv root)/versions/X.Y*``; prints the path, or exits 1
with what to install.

    python deploy/runtime_python.py            # /root/.pyenv/versions/3.12.1/bin/python3.12
    python deploy/runtime_python.py --version  # 3.12 (what pip's --python-version takes)

Standard library only: the Makefile runs it with whatever python3 the build host has.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def runtime_version(settings: Path = ROOT / "zappa_settings.json") -> str:
    """``3.12`` for ``"runtime": "python3.12"``; every stage must name the same runtime."""
    config = json.loads(settings.read_text())
    runtimes = {stage.get("runtime", config.get("base", {}).get("runtime")) for stage in config.values()}
    if len(runtimes) != 1 or not str(next(iter(runtimes))).startswith("python3."):
        raise SystemExit(f"{settings}: the stages must share one pythonX.Y runtime, found {sorted(map(str, runtimes))}")
    return str(runtimes.pop()).removeprefix("python")


def _reports(executable: str, version: str) -> bool:
    try:
        result = subprocess.run(  # noqa: S603 (an interpreter found on PATH or under pyenv)
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    except OSError:
        return False
    return result.returncode == 0 and result.stdout.strip() == version


def candidates(version: str) -> list[str]:
    found = [p for p in [shutil.which(f"python{version}")] if p]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()  # noqa: S603
        versions = sorted(Path(root, "versions").glob(f"{version}*"), reverse=True) if root else []
        found += [str(v / "bin" / f"python{version}") for v in versions if not v.name.startswith(f"{version}-")]
    return found


def find(version: str) -> str:
    for executable in candidates(version):
        if _reports(executable, version):
            return executable
    raise SystemExit(
        f"No Python {version} found (the Lambda runtime is python{version}, zappa_settings.json): the package "
        f"must be built by that interpreter. Install it (pyenv install {version}, apt install python{version}, "
        f"or actions/setup-python) so that python{version} is on PATH or under `pyenv root`/versions/."
    )


def main() -> None:
    version = runtime_version()
    print(version if sys.argv[1:] == ["--version"] else find(version))


if __name__ == "__main__":
    main()
