# StackPro backend — the project's vocabulary. `make run` and `make test` need nothing prepared.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
STAGE ?= dev
HOST ?= 127.0.0.1
PORT ?= 8000

SCHEMA := openapi.yaml

.PHONY: schema schema-check client client-deps run test lint format typecheck migrations-check check worker beat install install-dev install-server install-mysql lock audit package deploy-venv lambda-venv deploy undeploy deploy-rehearsal migrate-remote ops cold-start load fuzz clean

# pip itself comes from a lock too (requirements/pip.lock), not whatever version PyPI has that day.
$(VENV)/bin/activate: requirements/pip.lock
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes -r requirements/pip.lock

# Everything installs from the lock files (versions and sha256 hashes of the whole closure; `make lock`
# writes them from the .txt inputs): pip refuses a file whose hash is not in the lock.
PIP_LOCKED := $(PIP) install --require-hashes

$(VENV)/.base-installed: requirements/base.lock | $(VENV)/bin/activate
	$(PIP_LOCKED) -r requirements/base.lock
	touch $@

# dev.lock holds base.lock's versions (make lock constrains each set by the locks below it).
$(VENV)/.dev-installed: requirements/dev.lock | $(VENV)/bin/activate
	$(PIP_LOCKED) -r requirements/dev.lock
	touch $@ $(VENV)/.base-installed

$(VENV)/.server-installed: requirements/server.lock | $(VENV)/bin/activate
	$(PIP_LOCKED) -r requirements/server.lock
	touch $@ $(VENV)/.base-installed

install: $(VENV)/.base-installed
install-dev: $(VENV)/.dev-installed
# A long-lived server: base + gunicorn (gunicorn -c python:deploy.gunicorn_conf stackpro.wsgi).
install-server: $(VENV)/.server-installed

# mysqlclient needs the MySQL client headers; without them PyMySQL (always installed) is used.
install-mysql: | $(VENV)/bin/activate
	@$(PIP_LOCKED) -r requirements/mysql.lock 2>/dev/null \
		|| echo "mysqlclient could not be built here (no MySQL client headers?): PyMySQL will be used."

# ------------------------------------------------------------------------------------------------
# Supply chain. requirements/NAME.txt (what we ask for) -> requirements/NAME.lock (what gets installed):
# versions and hashes from PyPI, no index URL or local path. Each set is constrained by the locks below
# it, so a package has one version in every set. Existing pins are kept: LOCK_ARGS="--upgrade-package
# django" (or --upgrade) moves them. lambda.lock is the zip's set for Lambda's Python 3.12 (Amazon Linux
# 2023, glibc 2.34), wheels only, base's versions; the package build installs it with three --platform
# tags (LAMBDA_PLATFORM: pip does not widen one manylinux tag to older ones, and argon2-cffi-bindings
# 26.2.0 has manylinux_2_26+ wheels only). pip.lock is the installer every venv starts with.
# ------------------------------------------------------------------------------------------------
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --generate-hashes --no-emit-index-url --no-emit-find-links \
	--custom-compile-command "make lock" $(LOCK_ARGS)
lock-set = $(UV_COMPILE) $(2) requirements/$(1).txt -o requirements/$(1).lock
PY311_ANY_PLATFORM := --universal --python-version 3.11

lock: install-dev
	$(call lock-set,base,$(PY311_ANY_PLATFORM))
	$(call lock-set,server,$(PY311_ANY_PLATFORM) -c requirements/base.lock)
	$(call lock-set,deploy,$(PY311_ANY_PLATFORM) -c requirements/base.lock)
	$(call lock-set,dev,$(PY311_ANY_PLATFORM) -c requirements/deploy.lock -c requirements/server.lock)
	$(call lock-set,lambda,--python-version 3.12 --python-platform x86_64-manylinux_2_34 --only-binary :all: -c requirements/base.lock)
	$(call lock-set,mysql,$(PY311_ANY_PLATFORM))
	$(call lock-set,pip,$(PY311_ANY_PLATFORM))

# Every lock file against the OSV vulnerability database (requirements/audit.py): fails on a known
# vulnerability that has a fixed version; one without a fix is listed. Where OSV cannot be reached it
# says so and passes, unless AUDIT_STRICT=1 (the GitHub workflow). AUDIT_ARGS="--ignore-vuln ID".
audit: install-dev
	$(PY) requirements/audit.py $(AUDIT_ARGS) requirements/*.lock

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_local_admin
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install-dev client-deps
	@if [[ "$$DATABASE_URL" == mysql* ]]; then $(MAKE) --no-print-directory install-mysql; fi
	$(PY) -m pytest $(PYTEST_ARGS)

# The API contract: the OpenAPI schema the code generates, committed at $(SCHEMA) (docs/api.md).
# schema-check fails when the committed file differs from the code (the suite runs the same check:
# tests/core/test_schema.py).
schema: install-dev
	DJANGO_SETTINGS_MODULE=stackpro.settings.test $(PY) manage.py spectacular --file $(SCHEMA) --validate --fail-on-warn

schema-check: install-dev
	@tmp=$$(mktemp); trap 'rm -f $$tmp' EXIT; \
	DJANGO_SETTINGS_MODULE=stackpro.settings.test $(PY) manage.py spectacular --file $$tmp --validate --fail-on-warn && \
	diff -u $(SCHEMA) $$tmp || { echo "$(SCHEMA) is out of date: run make schema and commit it"; exit 1; }

# The TypeScript client (clients/typescript/): its npm packages, pinned by package-lock.json, and
# its types regenerated from the committed schema.
CLIENT := clients/typescript
$(CLIENT)/node_modules/.package-lock.json: $(CLIENT)/package.json $(CLIENT)/package-lock.json
	cd $(CLIENT) && npm ci --no-audit --no-fund --loglevel=error

client-deps: $(CLIENT)/node_modules/.package-lock.json

client: schema client-deps
	cd $(CLIENT) && npm run --silent generate

# ruff, and the import ladder of docs/architecture.md (import-linter contracts in pyproject.toml).
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: install-dev
	$(VENV)/bin/mypy core accounts projects billing assistant notifications console stackpro

migrations-check: install-dev
	DJANGO_SETTINGS_MODULE=stackpro.settings.test $(PY) manage.py makemigrations --check --dry-run

check: lint typecheck migrations-check audit test

worker: install
	$(VENV)/bin/celery -A stackpro worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A stackpro beat --loglevel=INFO

# ------------------------------------------------------------------------------------------------
# AWS Lambda (Zappa). The package is built from build/lambda/venv, created by the runtime's own
# interpreter (deploy/runtime_python.py finds python3.12 on PATH or under pyenv): first what the zip
# needs (requirements/lambda.txt) as wheels for the runtime's platform, then Zappa and its deploy-time
# tools (excluded from the zip). No dev tool can leak in, and the prebuild script may compile its
# site-packages (see deploy/). The folder is named `venv` because Zappa looks for WebSocket handlers in
# every .py file under the project except in folders named venv/env or hidden ones: one in a venv
# named otherwise (zappa/handler.py imports zappa.websocket) makes it add a WebSocket API on deploy.
# ------------------------------------------------------------------------------------------------
DEPLOY_VENV ?= build/lambda/venv
PACKAGE ?= build/stackpro-$(STAGE).zip
ZAPPA_SETTINGS ?= zappa_settings.json
DEPLOY_SETTINGS := build/zappa_settings.deploy.json
DEPLOY_PACKAGE := build/stackpro-$(STAGE)-deploy.zip
LAMBDA_PLATFORM := --platform manylinux_2_34_x86_64 --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64

# Rebuilt from scratch when the requirements or the prebuild change: the prebuild makes its
# site-packages sourceless, so it cannot compile them again.
$(DEPLOY_VENV)/.stackpro-deploy-venv: requirements/lambda.lock requirements/deploy.lock requirements/pip.lock deploy/runtime_python.py deploy/prebuild.py
	rm -rf $(DEPLOY_VENV)
	runtime_python=$$($(PYTHON) deploy/runtime_python.py) && version=$$($(PYTHON) deploy/runtime_python.py --version) \
		&& $$runtime_python -m venv $(DEPLOY_VENV) \
		&& $(DEPLOY_VENV)/bin/python -m pip --disable-pip-version-check -q install --require-hashes -r requirements/pip.lock \
		&& $(DEPLOY_VENV)/bin/python -m pip --disable-pip-version-check -q install \
			$(LAMBDA_PLATFORM) --only-binary=:all: --implementation cp --python-version $$version \
			--target $(DEPLOY_VENV)/lib/python$$version/site-packages --require-hashes -r requirements/lambda.lock \
		&& rm -rf $(DEPLOY_VENV)/lib/python$$version/site-packages/bin \
		&& $(DEPLOY_VENV)/bin/python -m pip --disable-pip-version-check -q install --require-hashes -r requirements/deploy.lock
	touch $@

deploy-venv: $(DEPLOY_VENV)/.stackpro-deploy-venv
lambda-venv: deploy-venv

# Builds the Lambda zip offline (no AWS credentials) and prints its size.
package: deploy-venv
	@mkdir -p $(dir $(PACKAGE))
	VIRTUAL_ENV=$(abspath $(DEPLOY_VENV)) PATH=$(abspath $(DEPLOY_VENV))/bin:$$PATH PYTHONDONTWRITEBYTECODE=1 \
		$(DEPLOY_VENV)/bin/zappa package $(STAGE) -s $(ZAPPA_SETTINGS) -o $(PACKAGE)
	@$(DEPLOY_VENV)/bin/python -c "import os, sys, zipfile; p = sys.argv[1]; z = zipfile.ZipFile(p); \
		u = sum(i.file_size for i in z.infolist()); \
		print(f'{p}: {os.path.getsize(p) / 1e6:.1f} MB zipped, {u / 1e6:.1f} MB unzipped, {len(z.infolist())} files')" $(PACKAGE)

# Deploys a stage with the current AWS credentials: the first run on an empty account bootstraps it
# (secrets from .secrets/$(STAGE).env), later runs update + migrate. The package is built from a
# settings copy carrying this account's id in the SQS ARN (deploy/stage.py; docs/deploy.md); then the
# queue mapping's limits and the schedules' failure destination from deploy/budget.json (deploy/lambda_events.py).
deploy: deploy-venv
	$(DEPLOY_VENV)/bin/python -m deploy.stage settings $(STAGE) -o $(DEPLOY_SETTINGS)
	@$(MAKE) --no-print-directory package ZAPPA_SETTINGS=$(DEPLOY_SETTINGS) PACKAGE=$(DEPLOY_PACKAGE)
	$(DEPLOY_VENV)/bin/python -m deploy.stage deploy $(STAGE) -s $(DEPLOY_SETTINGS) -z $(DEPLOY_PACKAGE)
	$(DEPLOY_VENV)/bin/python -m deploy.lambda_events $(STAGE) -s $(DEPLOY_SETTINGS)

# Removes the function, its API, schedules and queue mapping (not the log group, buckets, queues,
# database, roles: the log group belongs to the ops stack, so no --remove-logs).
undeploy: deploy-venv
	$(DEPLOY_VENV)/bin/python -m deploy.stage settings $(STAGE) -o $(DEPLOY_SETTINGS)
	VIRTUAL_ENV=$(abspath $(DEPLOY_VENV)) $(DEPLOY_VENV)/bin/zappa undeploy $(STAGE) -s $(DEPLOY_SETTINGS) --yes

# The real zappa deploy/update/schedule/undeploy of dev against a local moto server, as the deployer
# policy (tests/serverless/test_deploy_rehearsal.py; what moto cannot emulate: docs/deploy.md).
deploy-rehearsal: install-dev deploy-venv
	$(PY) -m pytest tests/serverless/test_deploy_rehearsal.py -q -p no:cacheprovider

# A stage's alarms, budget, dashboard, log retention, files bucket (deploy/ops.yaml) and RDS backups.
# Needs AWS credentials and OPS_ALERT_EMAIL (deploy/ops.py lists the other OPS_* settings).
ops: deploy-venv
	$(DEPLOY_VENV)/bin/python -m deploy.ops $(STAGE)

migrate-remote: deploy-venv
	VIRTUAL_ENV=$(abspath $(DEPLOY_VENV)) $(DEPLOY_VENV)/bin/zappa manage $(STAGE) migrate

# Cold start of the Lambda package: (a) init, (b) first request after a SnapStart restore, (c) plain
# cold start (docs/performance.md). BENCH_DATABASE_URL=mysql://... for MariaDB (default: SQLite).
cold-start: install-dev package
	$(PY) bench/cold_start.py --zip $(PACKAGE)

# The load test: 1,000 locust users against gunicorn (production settings), MariaDB, Redis, moto S3 and
# a fake Anthropic; prints per-endpoint figures and the ratio to the floor (docs/performance.md).
# LOAD_ARGS="--smoke" for a few users; LOAD_DATABASE_URL / LOAD_REDIS_URL pick the database and Redis db.
load: install-dev
	@$(MAKE) --no-print-directory install-mysql
	$(PY) bench/load/run.py $(LOAD_ARGS)

clean:
	rm -rf .pytest_cache .ruff_cache .mypy_cache .test-db-*.sqlite3 .test-media build

# Fuzz the whole API from its OpenAPI schema (schemathesis, all phases, two users): see docs/reliability.md.
fuzz: install-dev
	$(PY) bench/fuzz/run_fuzz.py $(FUZZ_ARGS)
