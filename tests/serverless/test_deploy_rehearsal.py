"""The real deploy of the dev stage, rehearsed against a local moto server as the deployer policy.

A moto server process (tests/serverless/moto_iam_server.py) stands in for AWS (boto3 honours ``AWS_ENDPOINT_URL``). As an administrator
the test creates what docs/deploy.md asks for before the first deploy: the Lambda role (from
deploy/iam/lambda-role-*.json), the task queue, and a ``deployer`` user holding
deploy/iam/deployer-policy.json. Then moto starts checking IAM (``/moto-api/reset-auth``, i.e.
``INITIAL_NO_AUTH_ACTION_COUNT`` = 0) and everything else runs with the deployer's keys:
``python -m deploy.stage`` (settings, the bootstrap of the empty account, an update), ``zappa schedule``
and ``zappa undeploy``, each a real subprocess with the package ``make package`` builds (the one the
packaged-handler test caches).

moto 5.2 checks a policy's actions, but matches resources only for S3, SQS and IAM (other services
ask for ``*``) and evaluates no condition keys: so the policy is loaded with the other statements'
resources widened to ``*`` and conditions dropped; tests/serverless/test_deploy_policy.py checks
those resources and conditions against the names Zappa uses. What moto cannot run at all (the
function's code, so the HTTP check and ``manage migrate``) is listed in docs/deploy.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.serverless.packaged import DEPLOY_VENV
from tests.servers import ROOT, free_port

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ACCOUNT = "123456789012"  # moto's
REGION = "us-east-1"
FUNCTION = "stackpro-dev"
QUEUE = "stackpro-dev-tasks"
CHECKED_RESOURCES = ("s3:", "sqs:", "iam:")  # the services whose resources moto matches
MOTO_NAMES = {"s3:ListBucket": "s3:HeadBucket"}  # moto's name for the action IAM checks on HeadBucket


def render(name: str, stage: str) -> str:
    text = (ROOT / "deploy" / "iam" / name).read_text()
    return text.replace("${AccountId}", ACCOUNT).replace("${Region}", REGION).replace("${Stage}", stage)


def as_moto_checks_it(policy: dict) -> dict:
    statements = []
    for statement in policy["Statement"]:
        statement = {k: v for k, v in statement.items() if k != "Condition"}
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if not all(action.startswith(CHECKED_RESOURCES) for action in actions):
            statement["Resource"] = "*"
        if any(action.startswith("apigateway:") for action in actions):
            actions = ["apigateway:*"]  # moto names them by operation, IAM by HTTP verb
        statement["Action"] = actions + [MOTO_NAMES[a] for a in actions if a in MOTO_NAMES]
        statements.append(statement)
    return {**policy, "Statement": statements}


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("moto_iam_server.py")), str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


ADMIN: dict[str, str] = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def admin(endpoint: str, service: str):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, **ADMIN)


@pytest.fixture(scope="module")
def deployer_env(moto: str, tmp_path_factory) -> dict[str, str]:
    iam = admin(moto, "iam")
    iam.create_user(UserName="admin")
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy(UserName="admin", PolicyName="admin", PolicyDocument=json.dumps(everything))
    admin_key = iam.create_access_key(UserName="admin")["AccessKey"]
    ADMIN.update(aws_access_key_id=admin_key["AccessKeyId"], aws_secret_access_key=admin_key["SecretAccessKey"])
    iam.create_user(UserName="deployer")
    for stage in ("dev", "prod"):
        role = f"stackpro-{stage}-lambda"
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=render("lambda-role-trust.json", stage))
        iam.put_role_policy(
            RoleName=role, PolicyName="stackpro", PolicyDocument=render("lambda-role-policy.json", stage)
        )
        admin(moto, "sqs").create_queue(QueueName=f"stackpro-{stage}-tasks")
        policy = as_moto_checks_it(json.loads(render("deployer-policy.json", stage)))
        iam.put_user_policy(UserName="deployer", PolicyName=f"deploy-{stage}", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    # From here on moto authenticates every request and checks it against the user's policy.
    reset = urllib.request.Request(f"{moto}/moto-api/reset-auth", data=b"0", headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(reset)
    secrets = tmp_path_factory.mktemp("secrets") / "dev.env"
    secrets.write_text("# the stage's secrets\nDATABASE_URL=mysql://stackpro:pw@db.example:3306/stackpro\n")
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(secrets.parent),
        "LANG": "C.UTF-8",
        "AWS_ENDPOINT_URL": moto,
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "SECRETS_FILE": str(secrets),
        "VIRTUAL_ENV": str(DEPLOY_VENV),
    }


def api_integrations(endpoint: str, stack: str) -> list[dict]:
    """The REST API methods' integrations in Zappa's stack template (moto's API Gateway drops Credentials)."""
    body = admin(endpoint, "cloudformation").get_template(StackName=stack)["TemplateBody"]
    template = json.loads(body) if isinstance(body, str) else body
    methods = [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Method"]
    assert methods
    return [m["Properties"]["Integration"] for m in methods]


def run(env: dict[str, str], *command: str) -> str:
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)}\n{output[-6000:]}"
    return output


def test_deploy_update_schedule_undeploy_dev_as_the_deployer(moto, deployer_env, package_dir, tmp_path):
    python, zappa = str(DEPLOY_VENV / "bin" / "python"), str(DEPLOY_VENV / "bin" / "zappa")
    package = package_dir.parent / "stackpro-dev.zip"
    settings = tmp_path / "zappa_settings.deploy.json"
    env = deployer_env
    run(env, python, "-m", "deploy.stage", "settings", "dev", "-o", str(settings), "--no-touch")
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUE}"
    assert json.loads(settings.read_text())["dev"]["events"][-1]["event_source"]["arn"] == arn

    deploy = [python, "-m", "deploy.stage", "deploy", "dev", "-s", str(settings), "-z", str(package), "--skip-migrate"]
    awslambda, events = admin(moto, "lambda"), admin(moto, "events")
    no_secrets = subprocess.run(deploy, cwd=ROOT, env={**env, "SECRETS_FILE": "/nonexistent/dev.env"},
                                capture_output=True, text=True, timeout=120)  # fmt: skip
    assert no_secrets.returncode == 1 and "the bootstrap needs the stage's secrets" in no_secrets.stderr
    assert not awslambda.list_functions()["Functions"]  # refused before creating anything

    first = run(env, *deploy)
    assert "stackpro-dev: bootstrapped" in first, first[-3000:]
    configuration = awslambda.get_function(FunctionName=FUNCTION)
    variables = configuration["Configuration"]["Environment"]["Variables"]
    api_id = admin(moto, "cloudformation").describe_stack_resource(StackName=FUNCTION, LogicalResourceId="Api")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    assert len(variables["SECRET_KEY"]) >= 50 and variables["DATABASE_URL"].startswith("mysql://")
    assert variables["ALLOWED_HOSTS"] == f"{api_id}.execute-api.{REGION}.amazonaws.com"
    assert configuration["Concurrency"]["ReservedConcurrentExecutions"] == 5
    assert configuration["Configuration"]["Role"] == f"arn:aws:iam::{ACCOUNT}:role/stackpro-dev-lambda"
    function_arn = configuration["Configuration"]["FunctionArn"]
    rules = events.list_rule_names_by_target(TargetArn=function_arn)["RuleNames"]
    assert len(rules) == 10 and all(rule.startswith("stackpro-dev-") for rule in rules)  # 9 jobs + keep-warm
    mappings = awslambda.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
    assert [(m["FunctionArn"], m["BatchSize"]) for m in mappings] == [(function_arn, 10)]
    assert "Unable to" not in first  # Zappa logs (and swallows) a failed mapping call
    for integration in api_integrations(moto, FUNCTION):  # API Gateway calls the function as its role
        assert integration["Credentials"] == f"arn:aws:iam::{ACCOUNT}:role/stackpro-dev-lambda"
        assert f":function:{FUNCTION}/invocations" in integration["Uri"]

    second = run(env, *deploy)  # the function has its secrets now: a plain update
    assert "stackpro-dev: updated" in second and "generated" not in second, second[-3000:]
    again = awslambda.get_function(FunctionName=FUNCTION)
    assert again["Configuration"]["Environment"]["Variables"]["SECRET_KEY"] == variables["SECRET_KEY"]
    assert again["Concurrency"]["ReservedConcurrentExecutions"] == 5  # not deleted by the update

    run(env, zappa, "schedule", "dev", "-s", str(settings))
    assert len(events.list_rule_names_by_target(TargetArn=function_arn)["RuleNames"]) == 10
    assert len(awslambda.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]) == 1

    run(env, zappa, "undeploy", "dev", "-s", str(settings), "--yes")  # as make undeploy
    with pytest.raises(awslambda.exceptions.ResourceNotFoundException):
        awslambda.get_function(FunctionName=FUNCTION)
    assert not events.list_rule_names_by_target(TargetArn=function_arn)["RuleNames"]
    assert not awslambda.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
    stacks = admin(moto, "cloudformation").list_stacks()["StackSummaries"]
    assert all(s["StackStatus"] == "DELETE_COMPLETE" for s in stacks if s["StackName"] == FUNCTION)


def test_prod_snapstart_routes_the_api_to_the_alias(moto, deployer_env, package_dir, tmp_path):
    """SnapStart's calls (publish, alias, versions) as the deployer; moto keeps no snapshot."""
    python, zappa = str(DEPLOY_VENV / "bin" / "python"), str(DEPLOY_VENV / "bin" / "zappa")
    settings = tmp_path / "zappa_settings.deploy.json"
    run(deployer_env, python, "-m", "deploy.stage", "settings", "prod", "-o", str(settings), "--no-touch")
    copy = json.loads(settings.read_text())
    assert copy["prod"].setdefault("snap_start", "PublishedVersions") == "PublishedVersions"
    # moto numbers a new version len(versions) + 1, so once Zappa has deleted old ones (prod keeps 2)
    # a number repeats and the alias cannot be seen to move; Lambda never reuses a number. The
    # deletion's calls are checked by test_deploy_policy.py.
    assert copy["prod"].pop("num_retained_versions") == 2
    settings.write_text(json.dumps(copy))
    package = str(package_dir.parent / "stackpro-dev.zip")  # the code is the same; moto never runs it
    deploy = [python, "-m", "deploy.stage", "deploy", "prod", "-s", str(settings), "-z", package, "--skip-migrate"]
    assert "stackpro-prod: bootstrapped" in run(deployer_env, *deploy)
    awslambda = admin(moto, "lambda")
    first = awslambda.get_alias(FunctionName="stackpro-prod", Name="snapstart")["FunctionVersion"]
    for integration in api_integrations(moto, "stackpro-prod"):
        assert ":function:stackpro-prod:snapstart/invocations" in json.dumps(integration["Uri"])

    assert "stackpro-prod: updated" in run(deployer_env, *deploy)
    second = awslambda.get_alias(FunctionName="stackpro-prod", Name="snapstart")["FunctionVersion"]
    assert int(second) > int(first)
    assert awslambda.get_function(FunctionName="stackpro-prod")["Concurrency"]["ReservedConcurrentExecutions"] == 25
    run(deployer_env, zappa, "undeploy", "prod", "-s", str(settings), "--yes")
    with pytest.raises(awslambda.exceptions.ResourceNotFoundException):
        awslambda.get_function(FunctionName="stackpro-prod")


def test_the_package_built_from_the_deploy_settings_routes_the_accounts_queue(package_dir, tmp_path):
    """Zappa bakes the SQS ARNs into the package's settings: `make package` from the copy carries the account."""
    from deploy.stage import write_settings

    copy = tmp_path / "zappa_settings.deploy.json"
    write_settings("dev", account="111122223333", out=copy)
    baked = tmp_path / "zappa_settings.py"
    env = {**os.environ, "VIRTUAL_ENV": str(DEPLOY_VENV)}
    zappa = str(DEPLOY_VENV / "bin" / "zappa")
    run(env, zappa, "save-python-settings-file", "dev", "-s", str(copy), "-o", str(baked))
    assert "arn:aws:sqs:us-east-1:111122223333:stackpro-dev-tasks" in baked.read_text()
    assert ACCOUNT not in baked.read_text()
