"""Cold start of the Lambda package: a fresh interpreter imports Zappa's handler (which loads Django)
and serves the first JWT-authenticated request. Prints milliseconds, before and after the prebuild
bytecode.

    make package STAGE=dev && .venv/bin/python bench/cold_start.py --zip build/stackpro-dev.zip

The zip is unzipped with its entries' own timestamps (Zappa writes 1980-01-01, as Lambda sees them)
and run with ``python -I -S -B`` (only the package and the runtime's boto3/botocore on sys.path; no
bytecode written, as /var/task is read-only). Variants:

- ``prebuilt``: the package as built (hash-based .pyc from deploy/prebuild.py);
- ``no-bytecode``: the same tree with sources instead of bytecode (the sourceless site-packages
  modules get their ``.py`` back from the dev venv, same pinned versions) and no ``.pyc`` at all —
  what a Zappa package without the prebuild costs (its timestamp .pyc are stale against 1980 mtimes,
  so Python recompiles everything all the same).

The database is a SQLite file migrated by the packaged-handler test (build/pkgtest/*/lambda.sqlite3)
or given with --db; the request is ``GET /api/schema/`` with a staff token (the one authenticated
endpoint that exists before the domain apps land; swap in a light list endpoint when they do).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import jwt

ROOT = Path(__file__).resolve().parent.parent
SECRET = "cold-start-bench-" + "k" * 40

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from zappa.handler import LambdaHandler
handler = LambdaHandler()
t1 = time.perf_counter()
event = {
    "resource": "/{proxy+}", "path": sys.argv[4], "httpMethod": "GET",
    "headers": {"Host": "api.stackpro.test", "X-Forwarded-Proto": "https", "Authorization": "Bearer " + sys.argv[3]},
    "multiValueHeaders": {}, "queryStringParameters": None, "pathParameters": None, "stageVariables": None,
    "requestContext": {"path": sys.argv[4], "stage": "dev", "identity": {"sourceIp": "203.0.113.7"}, "requestId": "x"},
    "body": None, "isBase64Encoded": False,
}
response = LambdaHandler.lambda_handler(event, None)
t2 = time.perf_counter()
response2 = LambdaHandler.lambda_handler(event, None)
t3 = time.perf_counter()
assert response["statusCode"] == 200 == response2["statusCode"], response
print("RESULT " + json.dumps({"init_ms": (t1 - t0) * 1000, "first_ms": (t2 - t1) * 1000, "warm_ms": (t3 - t2) * 1000}))
"""


def unzip_like_lambda(archive: Path, target: Path) -> None:
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            path = Path(zipped.extract(info, target))
            stamp = time.mktime((*info.date_time, 0, 0, -1))
            os.utime(path, (stamp, stamp))


def write_settings(app: Path, db: Path) -> None:
    deploy_venv = ROOT / "build" / "deploy-venv"
    settings = json.loads((ROOT / "zappa_settings.json").read_text())
    settings["dev"]["environment_variables"].update(
        {
            "SECRET_KEY": SECRET,
            "ALLOWED_HOSTS": "api.stackpro.test",
            "DATABASE_URL": f"sqlite:///{db}",
            "METRICS_EMF": "false",
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "zappa_settings.json"
        source.write_text(json.dumps(settings))
        subprocess.run(
            [str(deploy_venv / "bin" / "zappa"), "save-python-settings-file", "dev", "-s", str(source), "-o", str(app / "zappa_settings.py")],
            cwd=ROOT, check=True, capture_output=True, env={**os.environ, "VIRTUAL_ENV": str(deploy_venv)},
        )  # fmt: skip


def staff_token(db: Path) -> str:
    with sqlite3.connect(db) as connection:
        row = connection.execute(
            "SELECT id, password, token_version FROM accounts_user WHERE is_staff = 1 LIMIT 1"
        ).fetchone()
    if not row:
        sys.exit(f"no staff user in {db}: run tests/serverless/test_packaged_handler.py first")
    now = int(time.time())
    claims = {
        "token_type": "access",
        "exp": now + 3600,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "user_id": str(uuid.UUID(row[0])),
        # CHECK_REVOKE_TOKEN: simplejwt's hash of the password hash, and our session version
        "hash_password": hashlib.md5(row[1].encode()).hexdigest().upper(),  # noqa: S324 (simplejwt's own)
        "token_version": row[2],
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


def run(app: Path, runtime: Path, token: str, path: str, runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-I", "-S", "-B", "-c", CHILD, str(app), str(runtime), token, path],
            capture_output=True, text=True, cwd=app, env={"PATH": os.environ["PATH"], "TZ": "UTC"}, timeout=120,
        )  # fmt: skip
        wall = (time.perf_counter() - started) * 1000
        line = next((x for x in result.stdout.splitlines() if x.startswith("RESULT ")), None)
        if result.returncode or not line:
            sys.exit(result.stdout[-2000:] + result.stderr[-3000:])
        sample = json.loads(line[len("RESULT ") :])
        sample["process_ms"] = wall
        samples.append(sample)
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zip", default=str(ROOT / "build" / "stackpro-dev.zip"))
    parser.add_argument("--db", help="a migrated SQLite file with a staff user")
    parser.add_argument("--path", default="/api/schema/")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--variants",
        default="no-bytecode,prebuilt",
        help="comma-separated; no-bytecode needs the dev venv to hold the deploy venv's package versions",
    )
    args = parser.parse_args()
    db = Path(args.db) if args.db else next(iter(sorted((ROOT / "build" / "pkgtest").glob("*/lambda.sqlite3"))), None)
    if not db or not db.exists():
        sys.exit("no migrated SQLite database: pass --db or run tests/serverless/test_packaged_handler.py")
    site = ROOT / "build" / "deploy-venv" / "lib" / "python3.11" / "site-packages"
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        work = Path(tmp)
        runtime = work / "runtime"
        runtime.mkdir()
        for name in ("boto3", "botocore", "s3transfer"):
            (runtime / name).symlink_to(site / name)
        copy = work / "db.sqlite3"
        shutil.copy(db, copy)
        token = staff_token(copy)
        prebuilt = work / "prebuilt"
        unzip_like_lambda(Path(args.zip), prebuilt)
        write_settings(prebuilt, copy)
        variants = args.variants.split(",")
        bare = work / "no-bytecode"
        if "no-bytecode" in variants:
            shutil.copytree(prebuilt, bare, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            dev_site = Path(sys.prefix) / "lib" / "python3.11" / "site-packages"
            for legacy in prebuilt.rglob("*.pyc"):
                relative = legacy.relative_to(prebuilt)
                if "__pycache__" in relative.parts or (prebuilt / relative.with_suffix(".py")).exists():
                    continue
                source = dev_site / relative.with_suffix(".py")
                if not source.exists():
                    sys.exit(f"no source for {relative} in {dev_site}: run with the project's .venv")
                shutil.copy(source, bare / relative.with_suffix(".py"))
        pycs = sum(1 for _ in prebuilt.rglob("*.pyc"))
        print(
            f"zip: {args.zip} ({Path(args.zip).stat().st_size / 1e6:.1f} MB), {pycs} .pyc files; median of {args.runs} runs"
        )
        print(
            f"{'variant':<12} {'import+init':>12} {'1st request':>12} {'cold total':>11} {'process':>9} {'warm req':>9}"
        )
        for name, app in (("no-bytecode", bare), ("prebuilt", prebuilt)):
            if name not in variants:
                continue
            r = run(app, runtime, token, args.path, args.runs)
            print(f"{name:<12} {r['init_ms']:>10.0f}ms {r['first_ms']:>10.0f}ms {r['init_ms'] + r['first_ms']:>9.0f}ms"
                  f" {r['process_ms']:>7.0f}ms {r['warm_ms']:>7.1f}ms")  # fmt: skip


if __name__ == "__main__":
    main()
