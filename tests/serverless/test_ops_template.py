"""deploy/ops.yaml: cfn-lint clean, and `python -m deploy.ops` (what `make ops` runs) against a moto server.

moto's CloudFormation models the topic, dashboard, log group, bucket (encryption only) and RDS; it
skips alarms, the e-mail subscription, the budget and the policies (cfn-lint checks those against
CloudFormation's resource schemas), so the test checks what moto can hold and names what it cannot.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from core import metrics
from deploy.ops import TEMPLATE
from tests.servers import ROOT

pytestmark = [pytest.mark.integration]

ALARMS = {
    "api-5xx-rate",
    "lambda-errors",
    "lambda-throttles",
    "lambda-duration-near-timeout",
    "dlq-not-empty",
    "jobs-dlq-not-empty",
    "tasks-oldest-message",
    "rds-cpu",
    "rds-free-storage",
    "rds-connections",
}


@pytest.mark.slow
def test_the_template_passes_cfn_lint():
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_template_names_every_alarm_on_the_dashboard():
    text = TEMPLATE.read_text()
    for alarm in ALARMS:
        assert f'"stackpro-${{Stage}}-{alarm}"' in text
    alarm_resources = [line.split(":")[0].strip() for line in text.splitlines() if line.strip().endswith("Alarm:")]
    assert len(alarm_resources) == len(ALARMS)
    dashboard = text.split("  Dashboard:")[1]
    for resource in alarm_resources:
        assert f"- {resource}\n" in dashboard, f"the dashboard does not depend on {resource}"
    for alarm in ALARMS:
        assert f'"${{Alarm}}-{alarm}"' in dashboard, f"{alarm} is not on the dashboard's alarm widget"


def emitted_metrics(settings, capsys) -> set[tuple[str, str]]:
    """(Service, metric name) of every EMF line core/metrics.py writes with the default dimensions."""
    settings.METRICS_EMF, settings.METRICS_DETAILED = True, False
    metrics.record_request(method="GET", route="r", status=200, latency_ms=1)
    metrics.record_ai_usage(model="m", input_tokens=1, output_tokens=1, cost_usd=0.001)
    metrics.record_webhook(source="stripe", event_type="e", ok=True, latency_ms=1)
    metrics.record_work(kind="task", name="t", ok=True, duration_ms=1)
    metrics.record_work(kind="job", name="j", ok=True, duration_ms=1)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return {
        (line["Service"], metric["Name"])
        for line in lines
        for block in line["_aws"]["CloudWatchMetrics"]
        for metric in block["Metrics"]
        if block["Namespace"] == metrics.NAMESPACE
    }


def test_make_ops_creates_the_stack_and_sets_rds_backups_on_moto(moto_endpoint, settings, capsys):
    rds = boto3.client("rds", region_name="us-east-1", endpoint_url=moto_endpoint)
    rds.create_db_instance(
        DBInstanceIdentifier="stackpro-dev",
        DBInstanceClass="db.t4g.micro",
        Engine="mysql",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="a-long-enough-password-1",
        BackupRetentionPeriod=1,
    )
    env = {
        "PATH": os.environ["PATH"],
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "OPS_ALERT_EMAIL": "ops@stackpro.example",
        "OPS_BUDGET_USD": "25",
    }

    def make_ops() -> str:
        result = subprocess.run(
            [sys.executable, "-m", "deploy.ops", "dev"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    first = make_ops()
    assert "stackpro-dev-ops: CREATE_COMPLETE" in first
    assert "BackupRetentionPeriod" in first

    cloudformation = boto3.client("cloudformation", region_name="us-east-1", endpoint_url=moto_endpoint)
    resources = cloudformation.describe_stack_resources(StackName="stackpro-dev-ops")["StackResources"]
    assert {r.get("LogicalResourceId") for r in resources} >= {
        "AlertTopic",
        "FunctionLogGroup",
        "FilesBucket",
        "Dashboard",
    }, resources

    sns = boto3.client("sns", region_name="us-east-1", endpoint_url=moto_endpoint)
    assert "arn:aws:sns:us-east-1:123456789012:stackpro-dev-alerts" in [
        t["TopicArn"] for t in sns.list_topics()["Topics"]
    ]

    logs = boto3.client("logs", region_name="us-east-1", endpoint_url=moto_endpoint)
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/stackpro-dev")["logGroups"]
    assert group["retentionInDays"] == 30

    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_endpoint)
    encryption = s3.get_bucket_encryption(Bucket="stackpro-dev-files")["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"

    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto_endpoint)
    body = json.loads(cloudwatch.get_dashboard(DashboardName="stackpro-dev")["DashboardBody"])
    charted = set()
    for widget in body["widgets"]:
        if widget["type"] == "metric":
            for row in widget["properties"]["metrics"]:
                if row[0] == metrics.NAMESPACE:
                    charted.add((row[3], row[1]))
    assert emitted_metrics(settings, capsys) <= charted  # every EMF metric is on the dashboard
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert len(alarm_widget["properties"]["alarms"]) == len(ALARMS)

    (instance,) = rds.describe_db_instances(DBInstanceIdentifier="stackpro-dev")["DBInstances"]
    assert (instance["BackupRetentionPeriod"], instance["PreferredBackupWindow"]) == (7, "03:00-03:30")
    assert instance["CopyTagsToSnapshot"] is True and instance["DeletionProtection"] is False

    second = make_ops()  # applying again changes nothing
    assert "backups unchanged" in second
