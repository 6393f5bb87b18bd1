"""Instructions per request, counted by valgrind (callgrind): a figure the machine's noise cannot
move, for comparing two versions of the code. In-process requests (bench/load/profile_list.py:
the whole middleware stack, production settings, MariaDB and Redis of the load test), no server.

    .venv/bin/python bench/load/instructions.py [--paths /api/v1/health/ /api/v1/projects/?limit=20] [-n 40]

Each path runs twice under callgrind, with n and 3n requests after the same warm-up; the difference
divided by 2n is the cost of one request, start-up excluded.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def instructions(path: str, n: int) -> int:
    result = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            str(ROOT / "bench" / "load" / "profile_list.py"),
            "--run-only",
            "-n",
            str(n),
            "--path",
            path,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if not found:
        raise RuntimeError(result.stderr[-2000:])
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paths", nargs="+", default=["/api/v1/health/", "/api/v1/projects/?limit=20"])
    parser.add_argument("-n", type=int, default=40)
    args = parser.parse_args()
    per_request = {}
    for path in args.paths:
        low, high = instructions(path, args.n), instructions(path, 3 * args.n)
        per_request[path] = (high - low) / (2 * args.n)
        print(f"{path}: {per_request[path] / 1e6:.2f} M instructions per request", flush=True)
    floor = per_request[args.paths[0]]
    for path in args.paths[1:]:
        print(f"{path}: {per_request[path] / floor:.2f}x {args.paths[0]}")


if __name__ == "__main__":
    main()
