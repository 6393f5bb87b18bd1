"""Apply the operations of one stage: ``python -m deploy.ops STAGE`` (``make ops STAGE=...``).

1. Creates or updates the CloudFormation stack ``stackpro-<stage>-ops`` from deploy/ops.yaml through a
   change set (what ``aws cloudformation deploy`` does, with boto3 so no AWS CLI is needed; an
   unchanged template is a no-op).
2. Sets the RDS instance's automated backups (retention, window, snapshot tags, deletion protection
   on prod) with ModifyDBInstance: the instance is created once by hand (docs/deploy.md) and is not
   owned by the stack, which could otherwise replace it on a property mismatch.

Configuration from the environment: ``OPS_ALERT_EMAIL`` (required), ``OPS_DB_INSTANCE``
(default ``stackpro-<stage>``), ``OPS_BUDGET_USD`` (default 0 = no budget; one stage per account
owns it), ``OPS_BACKUP_RETENTION_DAYS`` (default 7), ``OPS_FRONTEND_ORIGIN``,
``OPS_LOG_RETENTION_DAYS``, ``OPS_DB_MAX_CONNECTIONS``. AWS credentials,
region and ``AWS_ENDPOINT_URL`` as boto3 reads them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

TEMPLATE = Path(__file__).with_name("ops.yaml")
BACKUP_WINDOW = "03:00-03:30"  # UTC, before the 03:17 token flush is fine: backups are online
OPTIONAL_PARAMETERS = {
    "MonthlyBudgetUSD": "OPS_BUDGET_USD",
    "FrontendOrigin": "OPS_FRONTEND_ORIGIN",
    "LogRetentionDays": "OPS_LOG_RETENTION_DAYS",
    "DBMaxConnections": "OPS_DB_MAX_CONNECTIONS",
}


def stack_name(stage: str) -> str:
    return f"stackpro-{stage}-ops"


def stack_parameters(stage: str, env: Mapping[str, str]) -> dict[str, str]:
    if not env.get("OPS_ALERT_EMAIL"):
        raise SystemExit("OPS_ALERT_EMAIL is required: the alarms and the budget e-mail it.")
    parameters = {
        "Stage": stage,
        "AlertEmail": env["OPS_ALERT_EMAIL"],
        "DBInstanceIdentifier": env.get("OPS_DB_INSTANCE", f"stackpro-{stage}"),
    }
    parameters.update({name: env[var] for name, var in OPTIONAL_PARAMETERS.items() if env.get(var)})
    return parameters


def deploy_stack(cloudformation: Any, *, stage: str, parameters: Mapping[str, str], poll: float = 5) -> str:
    """Create or update the stack through a change set; returns the stack status (or "UNCHANGED")."""
    name = stack_name(stage)
    try:
        status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if status == "ROLLBACK_COMPLETE":  # a first creation failed: CloudFormation only allows deleting it
            raise SystemExit(f"{name} is {status}: read its events, delete the stack, run make ops again")
        kind = "UPDATE"
    except ClientError as error:
        if "does not exist" not in str(error):
            raise
        kind = "CREATE"
    change_set = f"ops-{int(time.time())}"
    cloudformation.create_change_set(
        StackName=name,
        ChangeSetName=change_set,
        ChangeSetType=kind,
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": key, "ParameterValue": str(value)} for key, value in parameters.items()],
        Tags=[{"Key": "project", "Value": "stackpro"}, {"Key": "stage", "Value": stage}],
    )
    while True:
        described = cloudformation.describe_change_set(StackName=name, ChangeSetName=change_set)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            break
        time.sleep(poll)
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        if "didn't contain changes" in reason or "No updates" in reason:
            cloudformation.delete_change_set(StackName=name, ChangeSetName=change_set)
            return "UNCHANGED"
        raise SystemExit(f"change set failed: {reason}")
    cloudformation.execute_change_set(StackName=name, ChangeSetName=change_set)
    while True:
        status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            break
        time.sleep(poll)
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        raise SystemExit(f"stack {name} ended {status}: see its events in the CloudFormation console")
    return status


def apply_backups(rds: Any, *, stage: str, instance: str, retention_days: int) -> dict[str, Any]:
    """Point-in-time backups on the stage's instance; returns the settings it changed (none if all held)."""
    current = rds.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"][0]
    wanted = {
        "BackupRetentionPeriod": retention_days,
        "PreferredBackupWindow": BACKUP_WINDOW,
        "CopyTagsToSnapshot": True,
        "DeletionProtection": stage == "prod",
    }
    changes = {key: value for key, value in wanted.items() if current.get(key) != value}
    if changes:
        rds.modify_db_instance(DBInstanceIdentifier=instance, ApplyImmediately=True, **changes)
    return changes


def main(argv: list[str] | None = None, env: Mapping[str, str] = os.environ, poll: float = 5) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage")
    args = parser.parse_args(argv)
    parameters = stack_parameters(args.stage, env)
    status = deploy_stack(boto3.client("cloudformation"), stage=args.stage, parameters=parameters, poll=poll)
    print(f"{stack_name(args.stage)}: {status}")
    changes = apply_backups(
        boto3.client("rds"),
        stage=args.stage,
        instance=parameters["DBInstanceIdentifier"],
        retention_days=int(env.get("OPS_BACKUP_RETENTION_DAYS", "7")),
    )
    print(f"{parameters['DBInstanceIdentifier']}: backups {'changed ' + str(changes) if changes else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
