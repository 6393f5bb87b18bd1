"""deploy/stage.py's settings copy and secrets file, without AWS (the rehearsal runs the rest)."""

from __future__ import annotations

import json

import pytest

from deploy.stage import PLACEHOLDER_ACCOUNT, DeployError, read_secrets, write_settings


def test_the_deploy_settings_carry_the_accounts_id_in_the_queue_arns(tmp_path):
    out = tmp_path / "settings.json"
    write_settings("prod", account="111122223333", out=out, touch=False)
    settings = json.loads(out.read_text())
    arns = [e["event_source"]["arn"] for e in settings["prod"]["events"] if "event_source" in e]
    assert arns == ["arn:aws:sqs:us-east-1:111122223333:stackpro-prod-tasks"]
    assert settings["prod"]["touch"] is False
    assert PLACEHOLDER_ACCOUNT in json.dumps(settings["dev"])  # only the stage being deployed changes


def test_a_queue_in_another_account_is_refused(tmp_path, monkeypatch):
    source = tmp_path / "zappa_settings.json"
    settings = {"dev": {"events": [{"function": "f", "event_source": {"arn": "arn:aws:sqs:us-east-1:999988887777:q"}}]}}
    source.write_text(json.dumps(settings))
    monkeypatch.setattr("deploy.stage.SETTINGS", source)
    with pytest.raises(DeployError, match="is not in account 111122223333"):
        write_settings("dev", account="111122223333", out=tmp_path / "out.json")


def test_secrets_file(tmp_path, capsys):
    path = tmp_path / "dev.env"
    with pytest.raises(DeployError, match="the bootstrap needs the stage's secrets"):
        read_secrets(path)
    path.write_text("# comment\n\nALLOWED_HOSTS=api.example.com\n")
    with pytest.raises(DeployError, match="lacks DATABASE_URL"):
        read_secrets(path)
    path.write_text("DATABASE_URL=mysql://u:p=w@h/db\nSECRET_KEY=given\nnot a pair\n")
    with pytest.raises(DeployError, match="dev.env:3: expected KEY=VALUE"):
        read_secrets(path)
    path.write_text("DATABASE_URL=mysql://u:p=w@h/db\nSECRET_KEY=given\n")
    values = read_secrets(path)
    assert values["DATABASE_URL"] == "mysql://u:p=w@h/db" and values["SECRET_KEY"] == "given"
    assert len(values["JWT_SIGNING_KEY"]) >= 50
    assert "JWT_SIGNING_KEY generated" in capsys.readouterr().out


def test_the_github_deployer_trust_is_one_repository_and_stage():
    from deploy.stage import render_policy

    trust = json.loads(render_policy("deployer-trust-github", stage="prod", account="1", region="r", repository="o/n"))
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:sub"] == "repo:o/n:environment:prod"
    for name in ("deployer", "lambda-role", "lambda-trust"):
        assert "${" not in render_policy(name, stage="dev", account="1", region="r")
