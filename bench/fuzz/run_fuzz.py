"""`make fuzz`: fuzz the whole API from its OpenAPI schema against a real gunicorn and a fresh database.

    .venv/bin/python bench/fuzz/run_fuzz.py [--max-examples 50] [--seed N] [--max-time S]
        [--database-url mysql://root:@127.0.0.1:3306/stackpro_fuzz] [--login-path /api/v1/auth/token/]
        [--phases examples,coverage,fuzzing,stateful] [--deterministic]

All phases (examples, coverage, fuzzing, stateful), all checks, two users (alice, bob) plus the
cross-user pass of tests/fuzz/harness.py. Prints the figures and writes them, with schemathesis'
JSON/HAR/JUnit reports, under test-artifacts/fuzz/. Exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))


def fresh_database(url: str | None, workdir: Path) -> str:
    """A migrated, empty database for this run: the given URL (created if missing, emptied, migrated),
    or a new SQLite file. So that two runs with the same seed start from the same data."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "stackpro.settings.test"}
    if url is not None:
        name = url.rsplit("/", 1)[-1].split("?")[0]
        if "fuzz" not in name:  # it is emptied: never a database someone keeps
            raise SystemExit(
                f"--database-url: the database is emptied for the run; its name must contain 'fuzz' ({name})"
            )
        if url.startswith("mysql"):
            from tests.servers import ensure_mysql_database

            ensure_mysql_database(url)
    if url is None:
        path = workdir / "fuzz.sqlite3"
        url = f"sqlite:///{path}"
        # The pytest SQLite database, when one exists for the current migrations, is a migrated copy.
        code = "from stackpro.settings.test import DATABASES as D; print(D['default'].get('TEST', {}).get('NAME', ''))"
        template = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env={**env, "DATABASE_URL": url}, capture_output=True, text=True
        ).stdout.strip()
        if template and Path(template).exists():
            shutil.copyfile(template, path)
            print(f"database: copy of {template}")
    print(f"database: migrating {url.split('@')[-1]}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": url},
        check=True,
    )
    # Rows of an earlier run (users' projects, plan limits reached) would change what this one does.
    subprocess.run(
        [sys.executable, "manage.py", "flush", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": url},
        check=True,
    )
    return url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("FUZZ_MAX_EXAMPLES", 50)))
    parser.add_argument("--seed", type=int, default=None, help="fixed seed (default: random, printed)")
    parser.add_argument("--max-time", type=int, default=None, help="time budget in seconds for schemathesis")
    parser.add_argument("--workers", type=int, default=None, help="schemathesis workers (default: 1 on SQLite, 2 else)")
    parser.add_argument("--database-url", default=os.environ.get("FUZZ_DATABASE_URL"))
    parser.add_argument(
        "--login-path", default="/api/v1/auth/token/", help="log users in here ('' for minted JWTs instead)"
    )
    parser.add_argument("--phases", default=None, help="schemathesis phases (default: all)")
    parser.add_argument("--deterministic", action="store_true", help="schemathesis' deterministic mode (as in CI)")
    parser.add_argument("--report-dir", default=str(ROOT / "test-artifacts" / "fuzz"))
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="stackpro-fuzz-"))
    report_dir = Path(args.report_dir)
    shutil.rmtree(report_dir, ignore_errors=True)
    report_dir.mkdir(parents=True)
    database_url = fresh_database(args.database_url, workdir)
    if args.workers is None:  # SQLite has one writer: concurrent writes end as 503 "database is locked"
        args.workers = 1 if database_url.startswith("sqlite") else 2

    from tests.fuzz.harness import (
        PHASES,
        cross_user_pass,
        ensure_plan_catalogue,
        fuzz_services,
        fuzz_users,
        run_schemathesis,
        seed_objects,
        server_env,
        write_auth_file,
    )

    env = server_env(database_url)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "stackpro.settings.test"
    import django

    django.setup()
    ensure_plan_catalogue()
    users = fuzz_users()
    seeded = seed_objects(users)
    auth_file = write_auth_file(workdir / "auth.json", users, login_path=args.login_path or None)
    seed = args.seed if args.seed is not None else int(time.time()) % 100000

    from tests.servers import gunicorn

    started = time.monotonic()
    with (
        fuzz_services(workdir) as upstreams,
        gunicorn(
            {**env, **upstreams},
            settings="stackpro.settings.test",
            workers=max(2, args.workers),
            timeout=30,
            log_path=report_dir / "server.log",
        ) as base,
    ):
        result = run_schemathesis(
            base,
            auth_file,
            max_examples=args.max_examples,
            seed=seed,
            deterministic=args.deterministic,
            phases=args.phases or PHASES,
            max_time=args.max_time,
            workers=args.workers,
            report_dir=report_dir,
            seeded=seeded.ids,
        )
        cross = cross_user_pass(base, users[0], users[1])
        reverse = cross_user_pass(base, users[1], users[0])
    summary = {
        **result.summary(),
        "seed": None if args.deterministic else seed,
        "login_path": args.login_path or None,
        "max_examples": args.max_examples,
        "seeded": seeded.counts,
        "cross_user": {
            "objects": len(cross.objects) + len(reverse.objects),
            "probes": cross.probes + reverse.probes,
            "violations": cross.violations + reverse.violations,
        },
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    (report_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    print(result.output[-4000:])
    print(json.dumps(summary, indent=2))
    shutil.rmtree(workdir, ignore_errors=True)
    ok = result.exit_code == 0 and not summary["cross_user"]["violations"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
