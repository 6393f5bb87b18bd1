"""The CI/CD workflow parses, tests on every push with MariaDB and Redis, and deploys the right stages."""

from __future__ import annotations

import json

import yaml

from tests.servers import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "ci-deploy.yml"


def load():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 reads the bare key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def test_tests_run_on_every_push_against_mariadb_and_redis():
    workflow = load()
    assert workflow["on"]["push"]["branches"] == ["**"]
    test = workflow["jobs"]["test"]
    assert {"mariadb", "redis"} <= set(test["services"])
    assert test["env"]["DATABASE_URL"].startswith("mysql://")
    assert test["env"]["REDIS_URL"].startswith("redis://")
    commands = " ".join(step.get("run", "") for step in test["steps"])
    assert "make test" in commands and "make lint" in commands
    # The same Debian packages as .ci/run, and a browser, so the browser tests run instead of skipping
    # (under CI an unexpected skip fails the run: tests/skip_guard.py).
    assert ".ci/system-deps" in commands and "/system-deps" in (ROOT / ".ci" / "run").read_text()
    assert test["env"]["CI"] == "true" and test["env"]["CHROMIUM"]


def test_develop_deploys_dev_and_main_deploys_prod_after_the_tests():
    deploy = load()["jobs"]["deploy"]
    assert deploy["needs"] == "test"
    assert "refs/heads/develop" in deploy["if"] and "refs/heads/main" in deploy["if"]
    stage = deploy["env"]["STAGE"]
    assert stage == "${{ github.ref == 'refs/heads/main' && 'prod' || 'dev' }}"
    zappa_stages = set(json.loads((ROOT / "zappa_settings.json").read_text())) - {"base"}
    assert zappa_stages == {"dev", "prod"}
    runs = [step.get("run", "") for step in deploy["steps"]]
    # make deploy (deploy/stage.py) puts the account id into the queue ARN, updates, migrates and
    # checks the health route, as on a workstation; no second copy of those steps here.
    assert any('make deploy STAGE="$STAGE"' in run for run in runs)
    assert not [run for run in runs if "zappa " in run or "sed " in run or "aws lambda" in run]
    # make deploy itself sets the queue mapping's partial batch responses and limits after the deploy.
    recipe = (ROOT / "Makefile").read_text().split("\ndeploy: ", 1)[1].split("\n\n", 1)[0]
    assert recipe.index("deploy.stage deploy") < recipe.index("deploy.lambda_events")


def test_deploy_credentials_come_from_an_oidc_role():
    deploy = load()["jobs"]["deploy"]
    assert deploy["permissions"]["id-token"] == "write"
    aws = next(
        step
        for step in deploy["steps"]
        if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials")
    )
    assert "role-to-assume" in aws["with"] and "aws-access-key-id" not in aws["with"]
    assert "AWS_DEPLOY_ROLE_ARN_PROD" in aws["with"]["role-to-assume"]
    assert "secrets." not in WORKFLOW.read_text()


def test_both_jobs_set_up_the_lambda_runtimes_python():
    """The package is built by the runtime's interpreter (deploy/runtime_python.py): the tests build it
    (test_packaged_handler.py) and the deploy job ships it."""
    workflow = load()
    runtime = json.loads((ROOT / "zappa_settings.json").read_text())["base"]["runtime"]
    assert workflow["env"]["LAMBDA_PYTHON_VERSION"] == runtime.removeprefix("python")
    for job in ("test", "deploy"):
        setup = next(
            s for s in workflow["jobs"][job]["steps"] if str(s.get("uses", "")).startswith("actions/setup-python")
        )
        versions = setup["with"]["python-version"].strip().splitlines()
        assert versions == ["${{ env.LAMBDA_PYTHON_VERSION }}", "${{ env.PYTHON_VERSION }}"], versions
