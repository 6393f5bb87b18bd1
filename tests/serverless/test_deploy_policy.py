"""The IAM policies in deploy/iam/ against the AWS calls Zappa 0.63.0 makes with our settings.

CALLS is the table, read from Zappa 0.63.0's source (zappa/cli.py, core.py, utilities.py): every AWS
call that ``zappa deploy -z``, ``update -z``, ``schedule``, ``undeploy``, ``manage`` and ``tail``
make, plus deploy/stage.py's and deploy/lambda_events.py's own, with the resource it acts on. A row with
``granted=False`` is a call Zappa makes only with settings we do not use (the reason says which),
or one we refuse on purpose (DeleteFunctionConcurrency). The tests check that:

- Zappa is still 0.63.0 (an upgrade must re-read its source and this table);
- every AWS call in the Zappa functions the table names is in the table (so a call added by a
  patch release of those functions is caught even at the same version);
- the deployer policy allows each granted row on its resource and nothing else, and refuses
  DeleteFunctionConcurrency — which Zappa calls on every update unless ``lambda_concurrency`` is set,
  so every stage sets it (from deploy/budget.json);
- the schedule rule names Zappa derives fit the policy's rule ARNs;
- the Lambda role lets API Gateway (REST API) assume it and invoke the function and its aliases.
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from importlib.metadata import version

import pytest

from tests.servers import ROOT

ACCOUNT, REGION = "111122223333", "us-east-1"
SETTINGS = json.loads((ROOT / "zappa_settings.json").read_text())
STAGES = sorted(set(SETTINGS) - {"base"})

# Resource shapes; {s} is the stage.
FUNCTION = "arn:aws:lambda:{r}:{a}:function:stackpro-{s}"
ALIAS = FUNCTION + ":snapstart"  # core.SNAPSTART_LAMBDA_ALIAS, where API Gateway points with SnapStart
VERSION = FUNCTION + ":7"
MAPPING = "arn:aws:lambda:{r}:{a}:event-source-mapping:0d8f0c6e-1f2a-4b3c-9d4e-5f6a7b8c9d0e"
ROLE = "arn:aws:iam::{a}:role/stackpro-{s}-lambda"
BUCKET = "arn:aws:s3:::stackpro-zappa-{s}-deployments"
OBJECT = BUCKET + "/stackpro-{s}-template-1764700000.json"
STACK = "arn:aws:cloudformation:{r}:{a}:stack/stackpro-{s}/6f1c2e80-cf11-11f0-8de9-0a1b2c3d4e5f"
RESTAPIS = "arn:aws:apigateway:{r}::/restapis"
RESTAPI = RESTAPIS + "/a1b2c3d4e5"
RULE = "arn:aws:events:{r}:{a}:rule/stackpro-{s}-stackpro.lambda_tasks.flush_expired_tokens"
QUEUE = "arn:aws:sqs:{r}:{a}:stackpro-{s}-tasks"
LOG_GROUP = "arn:aws:logs:{r}:{a}:log-group:/aws/lambda/stackpro-{s}"
LOG_STREAMS = LOG_GROUP + ":*"


@dataclass(frozen=True)
class Call:
    action: str
    resource: str
    where: str  # zappa file:function (or ours) that makes the call
    granted: bool = True
    why: str = ""
    context: tuple[tuple[str, str], ...] = ()


def passed_to(service: str) -> tuple[tuple[str, str], ...]:
    return (("iam:PassedToService", service),)


ON_FUNCTION = (("lambda:FunctionArn", FUNCTION),)
NO_REMOVE_LOGS = "make undeploy runs without --remove-logs"

CALLS = [
    # zappa deploy -z <zip>
    Call("lambda:ListVersionsByFunction", FUNCTION, "core.py:get_lambda_function_versions"),
    Call("lambda:GetFunction", FUNCTION, "core.py:get_lambda_function"),
    Call("iam:GetRole", ROLE, "core.py:get_credentials_arn"),
    Call("lambda:CreateFunction", FUNCTION, "core.py:create_lambda_function"),
    Call("iam:PassRole", ROLE, "core.py:create_lambda_function", context=passed_to("lambda.amazonaws.com")),
    Call("lambda:CreateAlias", FUNCTION, "core.py:create_lambda_function", why="snap_start (prod): the alias"),
    Call("lambda:TagResource", FUNCTION, "core.py:create_lambda_function"),
    Call("lambda:PutFunctionConcurrency", FUNCTION, "core.py:create_lambda_function"),
    Call("lambda:CreateAlias", FUNCTION, "core.py:create_lambda_function", False, "alb_enabled is not set"),
    Call(
        "lambda:PutProvisionedConcurrencyConfig",
        VERSION,
        "core.py:create_lambda_function",
        False,
        "provisioned_concurrency is not set (SnapStart instead)",
    ),
    Call("lambda:GetFunctionConfiguration", FUNCTION, "core.py:wait_until_lambda_function_is_active"),
    Call("lambda:GetFunctionConfiguration", VERSION, "core.py:wait_until_lambda_function_version_is_active"),
    Call("lambda:GetFunctionConfiguration", FUNCTION, "core.py:wait_until_lambda_function_is_updated"),
    # the API: a CloudFormation stack (troposphere template uploaded to the deployment bucket)
    Call("s3:ListBucket", BUCKET, "core.py:upload_to_s3", why="head_bucket"),
    Call("s3:CreateBucket", BUCKET, "core.py:upload_to_s3", why="when the bucket is missing"),
    Call("s3:PutBucketTagging", BUCKET, "core.py:upload_to_s3", why="tags on the bucket it creates"),
    Call("s3:PutObject", OBJECT, "core.py:upload_to_s3", why="upload_file"),
    Call("s3:AbortMultipartUpload", OBJECT, "core.py:upload_to_s3", why="upload_file of a large file"),
    Call("s3:DeleteObject", OBJECT, "core.py:remove_from_s3"),
    Call("s3:ListBucket", BUCKET, "core.py:remove_from_s3", why="head_bucket"),
    Call("cloudformation:DescribeStacks", STACK, "core.py:update_stack"),
    Call("cloudformation:CreateStack", STACK, "core.py:update_stack"),
    Call("cloudformation:TagResource", STACK, "core.py:update_stack", why="the stack's ZappaProject tag"),
    Call("cloudformation:UpdateStack", STACK, "core.py:update_stack"),
    Call("cloudformation:ListStackResources", STACK, "core.py:update_stack", why="paginator while waiting"),
    Call("s3:GetObject", OBJECT, "core.py:update_stack", why="CloudFormation reads TemplateURL as the caller"),
    Call("apigateway:POST", RESTAPIS, "core.py:create_api_gateway_routes", why="the stack creates the REST API"),
    Call("apigateway:POST", RESTAPI + "/resources/x1y2z3", "core.py:create_api_gateway_routes"),
    Call("apigateway:PUT", RESTAPI + "/resources/x1y2z3/methods/ANY", "core.py:create_and_setup_methods"),
    Call("apigateway:PUT", RESTAPI + "/resources/x1y2z3/methods/ANY/integration", "core.py:create_and_setup_methods"),
    Call(
        "iam:PassRole",
        ROLE,
        "core.py:create_and_setup_methods",
        why="integration Credentials = the role",
        context=passed_to("apigateway.amazonaws.com"),
    ),
    Call("apigateway:DELETE", RESTAPI, "core.py:delete_stack", why="the stack deletes the REST API"),
    Call("cloudformation:DescribeStackResource", STACK, "core.py:get_api_id"),
    Call("apigateway:GET", RESTAPIS, "core.py:get_api_id", why="fallback when the stack has no Api"),
    Call("apigateway:PATCH", RESTAPI, "core.py:add_api_compression"),
    Call("apigateway:GET", RESTAPI, "core.py:remove_binary_support"),
    Call("apigateway:PATCH", RESTAPI, "core.py:remove_binary_support"),
    Call("apigateway:GET", RESTAPI + "/resources", "core.py:remove_binary_support", False, "cors is off"),
    Call(
        "apigateway:PATCH",
        RESTAPI + "/resources/x/methods/OPTIONS/integration",
        "core.py:remove_binary_support",
        False,
        "cors is off",
    ),
    Call("apigateway:POST", RESTAPI + "/deployments", "core.py:deploy_api_gateway"),
    Call("apigateway:PATCH", RESTAPI + "/stages/dev", "core.py:deploy_api_gateway"),
    # zappa update -z <zip>
    Call("lambda:GetFunction", FUNCTION, "cli.py:update", why="the 'have you deployed yet' check"),
    Call("lambda:UpdateFunctionCode", FUNCTION, "core.py:update_lambda_function"),
    Call("lambda:PublishVersion", FUNCTION, "core.py:update_lambda_function", why="Publish=True"),
    Call("lambda:PutFunctionConcurrency", FUNCTION, "core.py:update_lambda_function"),
    Call(
        "lambda:DeleteFunctionConcurrency",
        FUNCTION,
        "core.py:update_lambda_function",
        False,
        "only without lambda_concurrency: it would remove the cap on database connections",
    ),
    Call("lambda:ListVersionsByFunction", FUNCTION, "core.py:update_lambda_function", why="num_retained_versions"),
    Call("lambda:DeleteFunction", VERSION, "core.py:update_lambda_function", why="prunes old versions"),
    Call("lambda:GetAlias", ALIAS, "core.py:migrate_lambda_alias"),
    Call("lambda:CreateAlias", ALIAS, "core.py:migrate_lambda_alias"),
    Call("lambda:UpdateAlias", ALIAS, "core.py:migrate_lambda_alias"),
    Call("lambda:GetFunctionConfiguration", FUNCTION, "core.py:update_lambda_configuration"),
    Call("lambda:UpdateFunctionConfiguration", FUNCTION, "core.py:update_lambda_configuration"),
    Call("iam:PassRole", ROLE, "core.py:update_lambda_configuration", context=passed_to("lambda.amazonaws.com")),
    Call("lambda:TagResource", FUNCTION, "core.py:update_lambda_configuration"),
    Call("lambda:PublishVersion", FUNCTION, "core.py:update_lambda_configuration", why="snap_start (prod)"),
    Call(
        "lambda:PutProvisionedConcurrencyConfig",
        VERSION,
        "core.py:update_lambda_configuration",
        False,
        "provisioned_concurrency is not set",
    ),
    Call(
        "lambda:DeleteProvisionedConcurrencyConfig",
        VERSION,
        "core.py:update_lambda_configuration",
        False,
        "provisioned_concurrency is not set",
    ),
    Call("lambda:ListFunctionUrlConfigs", FUNCTION, "core.py:delete_lambda_function_url"),
    Call(
        "lambda:DeleteFunctionUrlConfig",
        FUNCTION,
        "core.py:delete_lambda_function_url",
        False,
        "no function URL is ever created (function_url_enabled is not set)",
    ),
    Call("lambda:GetPolicy", FUNCTION, "core.py:delete_function_url_policy", why="via list_function_url_policy"),
    Call("lambda:RemovePermission", FUNCTION, "core.py:delete_function_url_policy", False, "no function URL"),
    # zappa schedule (also the end of deploy and update)
    Call("lambda:GetFunction", FUNCTION, "cli.py:schedule"),
    Call("lambda:GetPolicy", FUNCTION, "core.py:_clear_policy"),
    Call("lambda:RemovePermission", FUNCTION, "core.py:_clear_policy"),
    Call("events:ListRuleNamesByTarget", "arn:aws:events:{r}:{a}:rule/*", "core.py:get_event_rule_names_for_lambda"),
    Call("events:ListTargetsByRule", RULE, "core.py:delete_rule"),
    Call("events:RemoveTargets", RULE, "core.py:delete_rule"),
    Call("events:DeleteRule", RULE, "core.py:delete_rule"),
    Call("events:PutRule", RULE, "core.py:schedule_events"),
    Call(
        "iam:PassRole",
        ROLE,
        "core.py:schedule_events",
        why="put_rule's RoleArn",
        context=passed_to("events.amazonaws.com"),
    ),
    Call("events:PutTargets", RULE, "core.py:schedule_events"),
    Call("lambda:AddPermission", FUNCTION, "core.py:create_event_permission"),
    Call("sts:GetCallerIdentity", "*", "core.py:create_event_permission", False, "needs no permission"),
    Call("lambda:ListEventSourceMappings", "*", "utilities.py:EventSourceMappingMixin._get_uuid"),
    # lambda:FunctionArn is in the request context of Create/Update/DeleteEventSourceMapping, not Get.
    Call("lambda:GetEventSourceMapping", MAPPING, "utilities.py:EventSourceMappingMixin.status"),
    Call("lambda:CreateEventSourceMapping", "*", "utilities.py:EventSourceMappingMixin.add", context=ON_FUNCTION),
    Call(
        "lambda:UpdateEventSourceMapping", MAPPING, "utilities.py:EventSourceMappingMixin.update", context=ON_FUNCTION
    ),
    # zappa undeploy (without --remove-logs: the log group belongs to the ops stack, deploy/ops.yaml)
    Call("cloudformation:DeleteStack", STACK, "core.py:delete_stack"),
    Call("cloudformation:DescribeStacks", STACK, "core.py:delete_stack", why="also the delete waiter"),
    Call("apigateway:DELETE", RESTAPI, "core.py:undeploy_api_gateway", why="fallback when there is no stack"),
    Call(
        "apigateway:DELETE",
        "arn:aws:apigateway:{r}::/domainnames/api.example/basepathmappings/(none)",
        "core.py:undeploy_api_gateway",
        False,
        "no `domain` in the settings",
    ),
    Call("apigateway:GET", RESTAPI + "/stages", "core.py:remove_api_gateway_logs", False, NO_REMOVE_LOGS),
    Call(
        "logs:DeleteLogGroup",
        "arn:aws:logs:{r}:{a}:log-group:API-Gateway-Execution-Logs_a1b2c3d4e5/dev",
        "core.py:remove_api_gateway_logs",
        False,
        NO_REMOVE_LOGS,
    ),
    Call(
        "lambda:DeleteEventSourceMapping", MAPPING, "utilities.py:EventSourceMappingMixin.remove", context=ON_FUNCTION
    ),
    Call("lambda:DeleteFunction", FUNCTION, "core.py:delete_lambda_function"),
    Call("logs:DeleteLogGroup", LOG_GROUP, "core.py:remove_lambda_function_logs", False, NO_REMOVE_LOGS),
    # zappa manage / invoke, zappa tail
    Call("lambda:InvokeFunction", FUNCTION, "core.py:invoke_lambda_function"),
    Call("logs:DescribeLogStreams", LOG_GROUP, "core.py:fetch_logs"),
    Call("logs:FilterLogEvents", LOG_GROUP, "core.py:fetch_logs"),
    # ours: deploy/stage.py and the CI mapping step
    Call("sts:GetCallerIdentity", "*", "deploy/stage.py:account_id", False, "needs no permission"),
    Call("lambda:GetFunctionConfiguration", FUNCTION, "deploy/stage.py:Stage.environment"),
    Call("iam:GetRole", ROLE, "deploy/stage.py:Stage.preflight"),
    Call("sqs:GetQueueAttributes", QUEUE, "deploy/stage.py:Stage.preflight"),
    Call("lambda:GetAccountSettings", "*", "deploy/stage.py:Stage.preflight"),
    Call("lambda:UpdateFunctionConfiguration", FUNCTION, "deploy/stage.py:Stage.configure"),
    Call("cloudformation:DescribeStackResource", STACK, "deploy/stage.py:Stage.api_url"),
    # ours: deploy/lambda_events.py (make deploy, after the deploy: budget limits, failure destination)
    Call("sts:GetCallerIdentity", "*", "deploy/lambda_events.py:apply", False, "needs no permission"),
    Call("lambda:PutFunctionConcurrency", FUNCTION, "deploy/lambda_events.py:apply"),
    Call("lambda:ListEventSourceMappings", "*", "deploy/lambda_events.py:apply"),
    Call("lambda:UpdateEventSourceMapping", MAPPING, "deploy/lambda_events.py:apply", context=ON_FUNCTION),
    Call("lambda:PutFunctionEventInvokeConfig", FUNCTION, "deploy/lambda_events.py:apply"),
]

# boto method → IAM action where the names differ.
BOTO_TO_IAM = {
    "lambda:invoke": "lambda:InvokeFunction",
    "s3:head_bucket": "s3:ListBucket",
    "s3:upload_file": "s3:PutObject",
    "s3:copy": "s3:GetObject",
    "cloudformation:get_paginator": "cloudformation:ListStackResources",
}
CLIENTS = {
    "lambda_client": "lambda", "_lambda": "lambda", "s3_client": "s3", "cf_client": "cloudformation",
    "apigateway_client": "apigateway", "events_client": "events", "iam_client": "iam", "logs_client": "logs",
    "sts_client": "sts",
}  # fmt: skip
REST_VERBS = {"get": "GET", "create": "POST", "put": "PUT", "update": "PATCH", "delete": "DELETE"}


def render(name: str, stage: str) -> dict:
    text = (ROOT / "deploy" / "iam" / name).read_text()
    return json.loads(text.replace("${AccountId}", ACCOUNT).replace("${Region}", REGION).replace("${Stage}", stage))


def arn(template: str, stage: str) -> str:
    return template.format(r=REGION, a=ACCOUNT, s=stage)


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def condition_holds(condition: dict, context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            if key not in context:
                return False
            match = fnmatchcase if operator in ("ArnLike", "StringLike") else str.__eq__
            if operator not in ("ArnLike", "StringLike", "StringEquals"):
                raise AssertionError(f"teach condition_holds the operator {operator}")
            if not any(match(context[key], pattern) for pattern in as_list(expected)):
                return False
    return True


def allows(policy: dict, action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """Identity-policy evaluation: an Allow statement matches and no Deny does (there are none)."""
    context = context or {}
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    return any(
        any(fnmatchcase(action.lower(), a.lower()) for a in as_list(s["Action"]))
        and any(fnmatchcase(resource, r) for r in as_list(s["Resource"]))
        and condition_holds(s.get("Condition", {}), context)
        for s in policy["Statement"]
    )


def zappa_function(where: str):
    import zappa.cli
    import zappa.core
    import zappa.utilities

    module, name = where.split(":")
    target = {"cli.py": zappa.cli.ZappaCLI, "core.py": zappa.core.Zappa, "utilities.py": zappa.utilities}[module]
    for part in name.split("."):
        target = getattr(target, part)
    return target


def iam_action(service: str, method: str, line: str) -> str:
    if f"{service}:{method}" in BOTO_TO_IAM:
        return BOTO_TO_IAM[f"{service}:{method}"]
    if service == "apigateway":  # IAM names API Gateway actions by HTTP verb
        return "apigateway:" + REST_VERBS[method.split("_")[0]]
    return f"{service}:" + "".join(word.capitalize() for word in method.split("_"))


def test_zappa_is_the_version_the_table_was_read_from():
    assert version("zappa") == "0.63.0", "re-read zappa's cli.py/core.py/utilities.py and update CALLS"


def test_every_aws_call_of_the_listed_zappa_functions_is_in_the_table():
    tabled = {(c.where, c.action) for c in CALLS}
    missing = []
    for where in sorted({c.where for c in CALLS if not c.where.startswith("deploy/")}):
        source = inspect.getsource(zappa_function(where))
        for client, method in re.findall(r"\b(\w+)\.(\w+)\(", source):
            if client not in CLIENTS or method in ("get_waiter", "exceptions"):
                continue
            action = iam_action(CLIENTS[client], method, source)
            if (where, action) not in tabled:
                missing.append(f"{where}: {client}.{method} ({action})")
    assert not missing, "Zappa makes calls the table lacks:\n" + "\n".join(missing)


def test_the_table_names_real_zappa_functions():
    for where in {c.where for c in CALLS if not c.where.startswith("deploy/")}:
        assert callable(zappa_function(where)), where


@pytest.mark.parametrize("stage", STAGES)
def test_the_deployer_policy_allows_every_call_zappa_makes_and_nothing_it_does_not(stage):
    policy = render("deployer-policy.json", stage)
    denied = [
        f"{c.action} on {arn(c.resource, stage)} ({c.where})"
        for c in CALLS
        if c.granted and not allows(policy, c.action, arn(c.resource, stage), {k: arn(v, stage) for k, v in c.context})
    ]
    assert not denied, "the deployer policy refuses:\n" + "\n".join(denied)
    granted = {c.action.lower() for c in CALLS if c.granted}
    unexplained = [a for s in policy["Statement"] for a in as_list(s["Action"]) if a.lower() not in granted]
    assert not unexplained, f"granted but called by nothing in the table: {unexplained}"


@pytest.mark.parametrize("stage", STAGES)
def test_the_deployer_policy_is_scoped_to_its_stage(stage):
    policy = render("deployer-policy.json", stage)
    other = "prod" if stage == "dev" else "dev"
    for call in CALLS:
        if call.granted and "{s}" in call.resource:
            context = {k: arn(v, other) for k, v in call.context}
            assert not allows(policy, call.action, arn(call.resource, other), context), (call, other)
    # PassRole goes to the three services that use the role, nowhere else.
    role = arn(ROLE, stage)
    assert not allows(policy, "iam:PassRole", role, {"iam:PassedToService": "ec2.amazonaws.com"})
    assert not allows(policy, "iam:PassRole", role)
    # A queue mapping can be made for this stage's function only.
    assert not allows(policy, "lambda:CreateEventSourceMapping", "*", {"lambda:FunctionArn": arn(FUNCTION, other)})


@pytest.mark.parametrize("stage", STAGES)
def test_update_never_calls_delete_function_concurrency(stage):
    """Zappa deletes the reserved concurrency on each update unless lambda_concurrency is set."""
    import zappa.cli

    source = inspect.getsource(zappa.core.Zappa.update_lambda_function)
    assert "if concurrency is not None:" in source and "delete_function_concurrency" in source
    cli = zappa.cli.ZappaCLI()
    cli.api_stage = stage
    cli.load_settings_file(str(ROOT / "zappa_settings.json"))
    budget = json.loads((ROOT / "deploy" / "budget.json").read_text())[stage]
    assert cli.stage_config["lambda_concurrency"] == budget["lambda_concurrency"]
    assert not allows(render("deployer-policy.json", stage), "lambda:DeleteFunctionConcurrency", arn(FUNCTION, stage))


@pytest.mark.parametrize("stage", STAGES)
def test_the_connection_budget_derives_the_concurrency_limits(stage):
    """docs/deploy.md "Connection budget": one connection per concurrent execution, 5 kept for people
    and maintenance; the queue may use a fifth of the executions (at least 2, SQS's minimum)."""
    budget = json.loads((ROOT / "deploy" / "budget.json").read_text())[stage]
    assert budget["lambda_concurrency"] == budget["db_connections"] - 5
    assert budget["sqs_max_concurrency"] == max(2, budget["lambda_concurrency"] // 5)


@pytest.mark.parametrize("stage", STAGES)
def test_zappas_schedule_rule_names_fit_the_policy(stage):
    import zappa.cli
    import zappa.core

    cli = zappa.cli.ZappaCLI()
    cli.api_stage = stage
    cli.load_settings_file(str(ROOT / "zappa_settings.json"))
    events = [e for e in cli.stage_config["events"] if "expression" in e]
    events.append({"name": "zappa-keep-warm", "function": "handler.keep_warm_callback"})  # cli.py:schedule
    policy = render("deployer-policy.json", stage)
    zappa = zappa.core.Zappa(load_credentials=False)
    for event in events:
        name = zappa.get_scheduled_event_name(event, event["function"], f"stackpro-{stage}")
        rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}"
        assert allows(policy, "events:PutRule", rule), rule


@pytest.mark.parametrize("stage", STAGES)
def test_the_lambda_role_lets_the_rest_api_invoke_the_function_and_its_alias(stage):
    trust = json.loads((ROOT / "deploy" / "iam" / "lambda-role-trust.json").read_text())
    principals = {s["Principal"]["Service"] for s in trust["Statement"] if s["Action"] == "sts:AssumeRole"}
    assert principals == {"lambda.amazonaws.com", "apigateway.amazonaws.com"}
    role = render("lambda-role-policy.json", stage)
    for target in (FUNCTION, ALIAS, VERSION):
        assert allows(role, "lambda:InvokeFunction", arn(target, stage)), target
    other = "prod" if stage == "dev" else "dev"
    assert not allows(role, "lambda:InvokeFunction", arn(FUNCTION, other))
    assert not any(a.startswith(("iam:", "ce:")) or a == "*" for s in role["Statement"] for a in as_list(s["Action"]))


def test_the_stage_secrets_never_ship_in_the_package():
    """deploy/stage.py reads .secrets/<stage>.env; Zappa zips the project directory."""
    assert ".secrets" in SETTINGS["base"]["exclude"]
    assert ".secrets/" in (ROOT / ".gitignore").read_text().splitlines()
