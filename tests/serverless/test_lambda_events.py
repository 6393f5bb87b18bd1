"""deploy/lambda_events.py against a moto server: the budget's limits and the schedules' failure destination."""

from __future__ import annotations

import inspect
import io
import json
import re
import zipfile

import boto3
import pytest

from deploy import lambda_events
from deploy.stage import DeployError
from tests.serverless.test_deploy_policy import CALLS, arn, render
from tests.servers import ROOT

pytestmark = [pytest.mark.integration]

SETTINGS = ROOT / "zappa_settings.json"


def a_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return None\n")
    return buffer.getvalue()


@pytest.fixture
def aws(moto_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    session = boto3.Session(region_name="us-east-1")
    iam = session.client("iam")
    role_name = "stackpro-dev-lambda"
    try:
        role = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = (ROOT / "deploy" / "iam" / "lambda-role-trust.json").read_text()
        role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    awslambda = session.client("lambda")
    try:
        awslambda.delete_function(FunctionName="stackpro-dev")
    except awslambda.exceptions.ResourceNotFoundException:
        pass
    awslambda.create_function(
        FunctionName="stackpro-dev", Runtime="python3.11", Role=role, Handler="handler.lambda_handler",
        Code={"ZipFile": a_zip()},
    )  # fmt: skip
    return session


def test_the_mapping_gets_the_budget_and_the_schedules_a_failure_destination(aws):
    sqs, awslambda = aws.client("sqs"), aws.client("lambda")
    url = sqs.create_queue(QueueName="stackpro-dev-tasks")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    uuid = awslambda.create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName="stackpro-dev", BatchSize=10, Enabled=True
    )["UUID"]
    before = awslambda.get_event_source_mapping(UUID=uuid)
    assert not before.get("FunctionResponseTypes") and not before.get("ScalingConfig")  # as Zappa leaves it

    applied = lambda_events.apply("dev", session=aws, settings_file=SETTINGS)
    lambda_events.apply("dev", session=aws, settings_file=SETTINGS)  # idempotent: a re-run changes nothing

    budget = json.loads((ROOT / "deploy" / "budget.json").read_text())["dev"]
    mapping = awslambda.get_event_source_mapping(UUID=uuid)
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": budget["sqs_max_concurrency"]}
    concurrency = awslambda.get_function_concurrency(FunctionName="stackpro-dev")
    assert concurrency["ReservedConcurrentExecutions"] == budget["lambda_concurrency"]
    config = awslambda.get_function_event_invoke_config(FunctionName="stackpro-dev")
    destination = "arn:aws:sqs:us-east-1:123456789012:stackpro-dev-jobs-dlq"
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == destination
    assert config["MaximumRetryAttempts"] == 2
    assert applied["sqs_mappings"] == [uuid] and applied["on_failure"] == destination


def test_no_queue_mapping_is_an_error_not_a_silent_success(aws):
    for mapping in aws.client("lambda").list_event_source_mappings(FunctionName="stackpro-dev")["EventSourceMappings"]:
        aws.client("lambda").delete_event_source_mapping(UUID=mapping["UUID"])
    with pytest.raises(DeployError, match="no SQS event source mapping"):
        lambda_events.apply("dev", session=aws, settings_file=SETTINGS)


def test_every_call_it_makes_is_in_the_deployer_policy_table():
    source = inspect.getsource(lambda_events.apply)
    methods = set(re.findall(r"awslambda\.(\w+)\(", source)) - {"get_paginator"}
    methods |= set(re.findall(r'get_paginator\("(\w+)"\)', source))
    actions = {"lambda:" + "".join(word.capitalize() for word in method.split("_")) for method in methods}
    tabled = {c.action for c in CALLS if c.where == "deploy/lambda_events.py:apply" and c.granted}
    assert actions == tabled


def test_the_function_may_send_to_the_jobs_dead_letter_queue_and_its_depth_alarms():
    role = render("lambda-role-policy.json", "dev")
    queue = arn("arn:aws:sqs:{r}:{a}:stackpro-{s}-jobs-dlq", "dev")
    assert any(s["Action"] == "sqs:SendMessage" and s["Resource"] == queue for s in role["Statement"])
    assert '"stackpro-${Stage}-jobs-dlq"' in (ROOT / "deploy" / "ops.yaml").read_text()
