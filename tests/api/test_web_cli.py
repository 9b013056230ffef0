"""`yuqing users …` and `yuqing tokens …` against the test database."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from yuqing.cli import _load_domain_commands
from yuqing.core.cli import app


def test_users_and_tokens_commands(db, database_url, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("YUQING_DATABASE_URL", database_url)
    monkeypatch.setenv("YUQING_SECRET_KEY", "cli-secret")
    monkeypatch.setenv("YUQING_WEB__ARGON2_TIME_COST", "1")
    monkeypatch.setenv("YUQING_WEB__ARGON2_MEMORY_KIB", "1024")
    _load_domain_commands()
    runner = CliRunner()
    r = runner.invoke(app, ["users", "add", "admin", "--roles", "admin", "--password", "first-admin-1"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["users", "add", "admin", "--password", "first-admin-1"])
    assert r.exit_code != 0  # exists: Conflict
    r = runner.invoke(app, ["users", "add", "bob", "--roles", "wizard", "--password", "long-enough-1"])
    assert r.exit_code != 0  # unknown role
    r = runner.invoke(app, ["users", "add", "carol"], input="pass-word-22\npass-word-22\n")
    assert r.exit_code == 0, r.output
    assert runner.invoke(app, ["users", "roles", "carol", "monitor,viewer"]).exit_code == 0
    assert runner.invoke(app, ["users", "passwd", "carol", "--password", "new-pass-333"]).exit_code == 0
    r = runner.invoke(app, ["users", "list", "--json"])
    users = {u["username"]: u for u in json.loads(r.output)}
    assert users["admin"]["roles"] == ["admin"] and users["carol"]["roles"] == ["monitor", "viewer"]

    r = runner.invoke(app, ["tokens", "add", "bi", "--roles", "viewer"])
    assert r.exit_code == 0
    secret = r.output.strip().splitlines()[-1]
    assert secret.startswith("yq_")
    r = runner.invoke(app, ["tokens", "list", "--json"])
    listed = json.loads(r.output)
    assert listed[0]["name"] == "bi" and secret not in r.output
    assert runner.invoke(app, ["tokens", "revoke", str(listed[0]["id"])]).exit_code == 0
    assert json.loads(runner.invoke(app, ["tokens", "list", "--json"]).output)[0]["revoked"] is True
