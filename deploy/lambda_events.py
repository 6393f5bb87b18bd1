"""After each deploy: what Zappa leaves unset on the function's event sources, from deploy/budget.json.

``make deploy`` runs ``python -m deploy.lambda_events STAGE -s SETTINGS`` after ``deploy.stage
deploy``; it is idempotent (every call sets a value, none adds one), so a re-run repairs drift:

- reserved concurrency = ``lambda_concurrency`` of the budget (Zappa sets the same number from the
  stage's ``lambda_concurrency``; set again here so the budget alone decides);
- every SQS mapping of the function: ``FunctionResponseTypes=ReportBatchItemFailures`` (without it
  Lambda ignores the handler's ``batchItemFailures``) and ``ScalingConfig.MaximumConcurrency`` =
  ``sqs_max_concurrency``: a burst of tasks (the daily digest's chunks) holds at most that many
  executions, and so database connections, whatever the queue depth;
- the asynchronous invocations (the EventBridge schedules): 2 retries within an hour, then the event
  goes to the on-failure destination ``stackpro-<stage>-jobs-dlq`` (an SQS queue; its depth alarm
  is in deploy/ops.yaml), not only to a log line.

Every AWS call it makes is in the deployer policy (deploy/iam/deployer-policy.json) and in
tests/serverless/test_deploy_policy.py's table. See docs/deploy.md, "Connection budget".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import NoCredentialsError

from deploy.stage import DEPLOY_SETTINGS, ROOT, DeployError, account_id, stage_config

BUDGET = ROOT / "deploy" / "budget.json"
ASYNC_RETRIES = 2
ASYNC_MAX_EVENT_AGE_SECONDS = 3600


def budget(stage: str) -> dict[str, int]:
    return json.loads(BUDGET.read_text())[stage]


def jobs_dead_letter_arn(*, region: str, account: str, function: str) -> str:
    return f"arn:aws:sqs:{region}:{account}:{function}-jobs-dlq"


def apply(stage: str, *, session: boto3.Session, settings_file: Path) -> dict[str, Any]:
    """Set the limits and the failure destination; returns what was set (printed by ``main``)."""
    config = stage_config(json.loads(settings_file.read_text()), stage)
    limits = budget(stage)
    region = config["aws_region"]
    function = f"{config['project_name']}-{stage}"
    awslambda = session.client("lambda", region_name=region)

    awslambda.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=limits["lambda_concurrency"])
    mappings = []
    for page in awslambda.get_paginator("list_event_source_mappings").paginate(FunctionName=function):
        mappings += [m for m in page["EventSourceMappings"] if ":sqs:" in m.get("EventSourceArn", "")]
    if not mappings:
        raise DeployError(f"{function} has no SQS event source mapping: did the deploy run?")
    for mapping in mappings:
        awslambda.update_event_source_mapping(
            UUID=mapping["UUID"],
            FunctionResponseTypes=["ReportBatchItemFailures"],
            ScalingConfig={"MaximumConcurrency": limits["sqs_max_concurrency"]},
        )
    destination = jobs_dead_letter_arn(region=region, account=account_id(session), function=function)
    awslambda.put_function_event_invoke_config(
        FunctionName=function,
        MaximumRetryAttempts=ASYNC_RETRIES,
        MaximumEventAgeInSeconds=ASYNC_MAX_EVENT_AGE_SECONDS,
        DestinationConfig={"OnFailure": {"Destination": destination}},
    )
    return {
        "function": function,
        "reserved_concurrency": limits["lambda_concurrency"],
        "sqs_mappings": [m["UUID"] for m in mappings],
        "sqs_max_concurrency": limits["sqs_max_concurrency"],
        "on_failure": destination,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.lambda_events", description=__doc__.split("\n")[0])
    parser.add_argument("stage")
    parser.add_argument("-s", "--settings", type=Path, default=DEPLOY_SETTINGS)
    args = parser.parse_args(argv)
    try:
        applied = apply(args.stage, session=boto3.Session(), settings_file=args.settings)
    except DeployError as error:
        print(f"lambda_events: {error}", file=sys.stderr)
        return 1
    except NoCredentialsError:
        print("lambda_events: no AWS credentials (aws configure, AWS_PROFILE or the CI role)", file=sys.stderr)
        return 1
    print(json.dumps(applied, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
