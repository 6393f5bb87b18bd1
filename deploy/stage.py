"""Deploy a Zappa stage: the settings for this account, the bootstrap of an empty account, then updates.

``make deploy STAGE=dev`` (and the CI deploy job) run, with the deploy venv's Python:

1. ``python -m deploy.stage settings STAGE`` writes ``build/zappa_settings.deploy.json``: a copy of
   ``zappa_settings.json`` whose SQS event source ARNs carry the account id of the current AWS
   credentials (``sts:GetCallerIdentity``) instead of the placeholder ``123456789012``. The package is
   built from that copy, because Zappa bakes the ARN into the package (an unknown ARN drops batches).
2. ``python -m deploy.stage deploy STAGE -z ZIP`` with the package built from that copy:

   - a function with secrets → ``zappa update`` + ``zappa manage migrate``;
   - no function (an empty account), or one left without secrets by an interrupted bootstrap →
     the bootstrap: ``zappa deploy`` with ``touch: false`` (production settings refuse to start
     without the secrets, so Zappa's check of the API would fail), the secrets from
     ``SECRETS_FILE`` (default ``.secrets/<stage>.env``, never in git) into the function's
     environment, ``zappa update`` (its check of the health route passes now), then ``migrate``.

   ``migrate`` always runs with the function's timeout raised to 300 s, then put back.

   With ``touch`` on, the health route must then answer 200.

``python -m deploy.stage policy NAME STAGE`` prints a policy of deploy/iam/ for this account, region
and stage (NAME: deployer, deployer-trust-github, lambda-role, lambda-trust). See docs/deploy.md.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
from botocore.exceptions import ClientError, NoCredentialsError

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "zappa_settings.json"
DEPLOY_SETTINGS = ROOT / "build" / "zappa_settings.deploy.json"
POLICIES = {
    "deployer": ROOT / "deploy" / "iam" / "deployer-policy.json",
    "lambda-role": ROOT / "deploy" / "iam" / "lambda-role-policy.json",
    "lambda-trust": ROOT / "deploy" / "iam" / "lambda-role-trust.json",
    "deployer-trust-github": ROOT / "deploy" / "iam" / "deployer-trust-github.json",
}
PLACEHOLDER_ACCOUNT = "123456789012"
GENERATED_SECRETS = ("SECRET_KEY", "JWT_SIGNING_KEY")
REQUIRED_SECRETS = ("DATABASE_URL",)
MIGRATE_TIMEOUT = 300
HEALTH_PATH = "/api/v1/health/"
# Lambda keeps this much of the account's concurrency unreserved (PutFunctionConcurrency refuses more).
MIN_UNRESERVED_CONCURRENCY = 100


class DeployError(Exception):
    """A precondition is missing: the message says what to do."""


def stage_config(settings: dict, stage: str) -> dict:
    """The stage's settings with its ``extends`` chain applied (as Zappa does)."""
    if stage not in settings:
        raise DeployError(f"no stage {stage!r} in zappa_settings.json")
    config = dict(settings[stage])
    parent = config.pop("extends", None)
    return {**stage_config(settings, parent), **config} if parent else config


def account_id(session: boto3.Session) -> str:
    return session.client("sts").get_caller_identity()["Account"]


def render_policy(name: str, *, stage: str, account: str, region: str, repository: str = "") -> str:
    text = POLICIES[name].read_text()
    values = {"AccountId": account, "Region": region, "Stage": stage, "Repository": repository}
    for key, value in values.items():
        text = text.replace("${" + key + "}", value)
    return text


def write_settings(stage: str, *, account: str, out: Path, touch: bool = True) -> dict:
    """The deploy copy of zappa_settings.json: this account's id in the stage's SQS ARNs."""
    settings = json.loads(SETTINGS.read_text())
    config = settings[stage]
    for event in config.get("events", []):
        source = event.get("event_source")
        if source:
            parts = source["arn"].split(":")
            if parts[4] == PLACEHOLDER_ACCOUNT:
                parts[4] = account
            if parts[4] != account:
                raise DeployError(f"{source['arn']} is not in account {account}: fix zappa_settings.json")
            source["arn"] = ":".join(parts)
    if not touch:
        config["touch"] = False
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(settings, indent=4) + "\n")
    return settings


def read_secrets(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (blank lines and # comments skipped); SECRET_KEY/JWT_SIGNING_KEY made if absent."""
    if not path.is_file():
        raise DeployError(
            f"the bootstrap needs the stage's secrets in {path} (KEY=VALUE lines, at least "
            f"{', '.join(REQUIRED_SECRETS)}; see docs/deploy.md). Create it, or set SECRETS_FILE."
        )
    values = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise DeployError(f"{path}:{number}: expected KEY=VALUE")
        values[key.strip()] = value.strip()
    missing = [key for key in REQUIRED_SECRETS if not values.get(key)]
    if missing:
        raise DeployError(f"{path} lacks {', '.join(missing)}")
    for key in GENERATED_SECRETS:
        if not values.get(key):
            values[key] = secrets.token_urlsafe(50)
            print(f"{key} generated (it lives only in the function's environment)")
    return values


class Stage:
    def __init__(self, stage: str, *, settings_file: Path, session: boto3.Session) -> None:
        self.stage = stage
        self.settings_file = settings_file
        self.settings = json.loads(settings_file.read_text())
        self.config = stage_config(self.settings, stage)
        self.session = session
        self.region = self.config["aws_region"]
        self.function = f"{self.config['project_name']}-{stage}"
        self.account = account_id(session)
        self.awslambda = session.client("lambda", region_name=self.region)
        for event in self.config.get("events", []):
            arn = event.get("event_source", {}).get("arn", "")
            if arn and arn.split(":")[4] != self.account:
                raise DeployError(
                    f"{settings_file} names {arn}, not account {self.account}: run `deploy.stage settings`"
                )

    # -- AWS state -------------------------------------------------------------------------------
    def environment(self) -> dict[str, str] | None:
        """The function's environment variables, or None when there is no function."""
        try:
            configuration = self.awslambda.get_function_configuration(FunctionName=self.function)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise
        return configuration.get("Environment", {}).get("Variables", {})

    def api_url(self) -> str:
        stack = self.session.client("cloudformation", region_name=self.region)
        resource = stack.describe_stack_resource(StackName=self.function, LogicalResourceId="Api")
        api_id = resource["StackResourceDetail"]["PhysicalResourceId"]
        return f"https://{api_id}.execute-api.{self.region}.amazonaws.com/{self.stage}"

    def preflight(self) -> None:
        """What an empty account must have before the first deploy (docs/deploy.md, step 1)."""
        iam = self.session.client("iam")
        role = self.config["role_name"]
        try:
            iam.get_role(RoleName=role)
        except ClientError as error:
            raise DeployError(f"role {role} missing: create it from deploy/iam/lambda-role-*.json") from error
        sqs = self.session.client("sqs", region_name=self.region)
        for event in self.config.get("events", []):
            arn = event.get("event_source", {}).get("arn", "")
            if ":sqs:" in arn:
                name = arn.split(":")[5]
                url = f"https://sqs.{self.region}.amazonaws.com/{self.account}/{name}"
                try:
                    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
                except ClientError as error:
                    raise DeployError(f"queue {name} missing: create it (docs/deploy.md, SQS)") from error
        wanted = self.config.get("lambda_concurrency")
        if wanted:
            limits = self.awslambda.get_account_settings()["AccountLimit"]
            if limits["UnreservedConcurrentExecutions"] - wanted < MIN_UNRESERVED_CONCURRENCY:
                raise DeployError(
                    f"the account's Lambda concurrency ({limits['ConcurrentExecutions']}) cannot reserve {wanted}: "
                    "ask Service Quotas for 'Concurrent executions' of 1000 (new accounts start lower)"
                )

    # -- steps -----------------------------------------------------------------------------------
    def zappa(self, *args: str) -> None:
        zappa = Path(sys.executable).with_name("zappa")
        command = [str(zappa), *args[:2], "-s", str(self.settings_file), *args[2:]]
        print("$", " ".join(command), flush=True)
        env = {**os.environ, "VIRTUAL_ENV": str(Path(sys.executable).parent.parent)}
        result = subprocess.run(command, cwd=ROOT, env=env)  # noqa: S603 (the deploy venv's zappa)
        if result.returncode:
            raise DeployError(f"{' '.join(args[:2])} failed (exit {result.returncode})")

    def configure(self, **changes) -> None:
        self.awslambda.get_waiter("function_updated").wait(FunctionName=self.function)
        self.awslambda.update_function_configuration(FunctionName=self.function, **changes)
        self.awslambda.get_waiter("function_updated").wait(FunctionName=self.function)

    def set_secrets(self, values: dict[str, str]) -> None:
        current = self.environment() or {}
        host = self.api_url().split("/")[2]
        hosts = [h for h in values.get("ALLOWED_HOSTS", "").split(",") if h]
        values = {**values, "ALLOWED_HOSTS": ",".join(dict.fromkeys([*hosts, host]))}
        self.configure(Environment={"Variables": {**current, **values}})
        print(f"secrets set on {self.function}: {', '.join(sorted(values))}")

    def migrate(self) -> None:
        """``manage migrate`` with a longer timeout: the first one creates every table (~1-2 min), and a
        bootstrap interrupted after the secrets resumes as an update (API Gateway still cuts at 29 s)."""
        self.configure(Timeout=MIGRATE_TIMEOUT)
        try:
            self.zappa("manage", self.stage, "migrate --noinput")
        finally:
            self.configure(Timeout=self.config.get("timeout_seconds", 30))

    def check_health(self) -> None:
        url = self.api_url() + HEALTH_PATH
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (our API's https URL)
            if response.status != 200:
                raise DeployError(f"GET {url} answered {response.status}")
        print(f"GET {url}: 200")

    def deploy(self, package: Path, *, secrets_file: Path, migrate: bool = True) -> str:
        """Bootstrap an empty account or update; returns "bootstrap" or "update"."""
        environment = self.environment()
        bootstrap = environment is None or "SECRET_KEY" not in environment
        if bootstrap:
            values = read_secrets(secrets_file)  # before anything is created
            if environment is None:
                self.preflight()
                first = self.settings_file.with_suffix(".bootstrap.json")
                settings = json.loads(self.settings_file.read_text())
                settings[self.stage]["touch"] = False  # nothing can answer before the secrets exist
                first.write_text(json.dumps(settings, indent=4) + "\n")
                Stage(self.stage, settings_file=first, session=self.session).zappa(
                    "deploy", self.stage, "-z", str(package)
                )
            self.set_secrets(values)
        self.zappa("update", self.stage, "-z", str(package))
        if migrate:
            self.migrate()
        if self.config.get("touch", True):
            self.check_health()
        print(f"{self.function}: {'bootstrapped' if bootstrap else 'updated'}, {self.api_url()}")
        return "bootstrap" if bootstrap else "update"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.stage", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    settings = commands.add_parser("settings", help="write the deploy copy of zappa_settings.json")
    settings.add_argument("stage")
    settings.add_argument("-o", "--output", type=Path, default=DEPLOY_SETTINGS)
    settings.add_argument("--no-touch", action="store_true", help="no HTTP check of the API (rehearsals)")
    deploy = commands.add_parser("deploy", help="bootstrap or update the stage")
    deploy.add_argument("stage")
    deploy.add_argument("-z", "--zip", type=Path, required=True, help="the package built from the deploy settings")
    deploy.add_argument("-s", "--settings", type=Path, default=DEPLOY_SETTINGS)
    deploy.add_argument("--skip-migrate", action="store_true", help="no `manage migrate` (rehearsals)")
    policy = commands.add_parser("policy", help="print an IAM policy for this account and stage")
    policy.add_argument("name", choices=sorted(POLICIES))
    policy.add_argument("stage")
    policy.add_argument("--repository", default="", help="owner/name on GitHub (deployer-trust-github)")
    args = parser.parse_args(argv)

    session = boto3.Session()
    try:
        if args.command == "settings":
            account = account_id(session)
            write_settings(args.stage, account=account, out=args.output, touch=not args.no_touch)
            print(f"{args.output}: stage {args.stage}, account {account}")
        elif args.command == "policy":
            region = stage_config(json.loads(SETTINGS.read_text()), args.stage)["aws_region"]
            account = account_id(session)
            print(
                render_policy(args.name, stage=args.stage, account=account, region=region, repository=args.repository)
            )
        else:
            stage = Stage(args.stage, settings_file=args.settings, session=session)
            secrets_file = Path(os.environ.get("SECRETS_FILE", ROOT / ".secrets" / f"{args.stage}.env"))
            stage.deploy(args.zip, secrets_file=secrets_file, migrate=not args.skip_migrate)
    except DeployError as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 1
    except NoCredentialsError:
        print("deploy: no AWS credentials (aws configure, AWS_PROFILE or the CI role)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
