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

.PHONY: schema schema-check client client-deps run test lint format typecheck migrations-check check worker beat install install-dev install-mysql package deploy-venv deploy undeploy deploy-rehearsal migrate-remote ops cold-start load install-bench fuzz clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.base-installed: requirements/base.txt | $(VENV)/bin/activate
	$(PIP) install -r requirements/base.txt
	touch $@

$(VENV)/.dev-installed: requirements/base.txt requirements/dev.txt | $(VENV)/bin/activate
	$(PIP) install -r requirements/dev.txt
	touch $@ $(VENV)/.base-installed

install: $(VENV)/.base-installed
install-dev: $(VENV)/.dev-installed

# mysqlclient needs the MySQL client headers; without them PyMySQL (always installed) is used.
install-mysql: | $(VENV)/bin/activate
	@$(PIP) install -r requirements/mysql.txt 2>/dev/null \
		|| echo "mysqlclient could not be built here (no MySQL client headers?): PyMySQL will be used."

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

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: install-dev
	$(VENV)/bin/mypy core accounts projects billing assistant notifications console stackpro

migrations-check: install-dev
	DJANGO_SETTINGS_MODULE=stackpro.settings.test $(PY) manage.py makemigrations --check --dry-run

check: lint typecheck migrations-check test

worker: install
	$(VENV)/bin/celery -A stackpro worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A stackpro beat --loglevel=INFO

# ------------------------------------------------------------------------------------------------
# AWS Lambda (Zappa). The package is built from a venv holding only requirements/deploy.txt, so no
# dev tool ends up in the zip and the prebuild script may compile its site-packages (see deploy/).
# ------------------------------------------------------------------------------------------------
DEPLOY_VENV ?= build/deploy-venv
PACKAGE ?= build/stackpro-$(STAGE).zip
ZAPPA_SETTINGS ?= zappa_settings.json
DEPLOY_SETTINGS := build/zappa_settings.deploy.json
DEPLOY_PACKAGE := build/stackpro-$(STAGE)-deploy.zip

# Rebuilt from scratch when the requirements change: the prebuild makes its site-packages sourceless.
$(DEPLOY_VENV)/.stackpro-deploy-venv: requirements/base.txt requirements/deploy.txt
	rm -rf $(DEPLOY_VENV)
	$(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/python -m pip --disable-pip-version-check -q install -r requirements/deploy.txt
	touch $@

deploy-venv: $(DEPLOY_VENV)/.stackpro-deploy-venv

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
# settings copy carrying this account's id in the SQS ARN (deploy/stage.py; docs/deploy.md).
deploy: deploy-venv
	$(DEPLOY_VENV)/bin/python -m deploy.stage settings $(STAGE) -o $(DEPLOY_SETTINGS)
	@$(MAKE) --no-print-directory package ZAPPA_SETTINGS=$(DEPLOY_SETTINGS) PACKAGE=$(DEPLOY_PACKAGE)
	$(DEPLOY_VENV)/bin/python -m deploy.stage deploy $(STAGE) -s $(DEPLOY_SETTINGS) -z $(DEPLOY_PACKAGE)

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

# Cold start of the WSGI app in a fresh interpreter (import + first authenticated request).
cold-start: install
	$(PY) bench/cold_start.py

# The load test: 1,000 locust users against gunicorn (production settings), MariaDB, Redis, moto S3 and
# a fake Anthropic; prints per-endpoint figures and the ratio to the floor (docs/performance.md).
# LOAD_ARGS="--smoke" for a few users; LOAD_DATABASE_URL / LOAD_REDIS_URL pick the database and Redis db.
$(VENV)/.bench-installed: requirements/base.txt requirements/dev.txt requirements/deploy.txt requirements/bench.txt | $(VENV)/bin/activate
	$(PIP) install -r requirements/bench.txt
	touch $@ $(VENV)/.dev-installed $(VENV)/.base-installed

install-bench: $(VENV)/.bench-installed

load: install-bench
	@$(MAKE) --no-print-directory install-mysql
	$(PY) bench/load/run.py $(LOAD_ARGS)

clean:
	rm -rf .pytest_cache .ruff_cache .mypy_cache .test-db-*.sqlite3 .test-media build

# Fuzz the whole API from its OpenAPI schema (schemathesis, all phases, two users): see docs/reliability.md.
fuzz: install-dev
	$(PY) bench/fuzz/run_fuzz.py $(FUZZ_ARGS)
