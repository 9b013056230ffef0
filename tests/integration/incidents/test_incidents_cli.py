"""The CLI wiring: `yuqing incidents …` and `yuqing resources …` over the test database."""

from __future__ import annotations

from typer.testing import CliRunner

from yuqing.cli import _load_domain_commands
from yuqing.core.cli import app
from yuqing.errors import Conflict, PermissionDenied, ValidationError
from yuqing.org.service import load_org_file


def test_cli_flow(ctx, database_url, monkeypatch, tmp_path):
    _load_domain_commands()
    monkeypatch.setenv("YUQING_DATABASE_URL", database_url)
    monkeypatch.delenv("YUQING_ACTOR", raising=False)
    with ctx.db.session() as s:
        load_org_file(s, None, now=ctx.clock.now())
    runner = CliRunner()

    def run(*args: str, actor: str | None = None):
        argv = list(args) + (["--as", actor] if actor else [])
        return runner.invoke(app, argv, catch_exceptions=True)

    r = run(
        "incidents",
        "open",
        "--title",
        "网传理财产品暴雷",
        "--level",
        "II",
        "--category",
        "negative_media",
        "--fact",
        "产品运作正常",
    )
    assert isinstance(r.exception, ValidationError) and "--as" in str(r.exception)  # no actor
    r = run(
        "incidents",
        "open",
        "--title",
        "网传理财产品暴雷",
        "--level",
        "II",
        "--category",
        "negative_media",
        "--fact",
        "产品运作正常",
        actor="lin.xiao",
    )
    assert r.exit_code == 0 and "#1" in r.output
    r = run("incidents", "show", "1")
    assert r.exit_code == 0 and "已报告" in r.output and "报告应急管理小组" in r.output
    r = run("incidents", "transition", "1", "closed", actor="chen.jianguo")
    assert isinstance(r.exception, Conflict)
    assert run("incidents", "transition", "1", "assessing", actor="zheng.hao").exit_code == 0
    r = run("incidents", "statement", "draft", "1", "--kind", "clarification", actor="huang.lei")
    assert r.exit_code == 0 and "1. 产品运作正常" in r.output
    assert isinstance(run("incidents", "approve", "1", actor="zhou.ting").exception, PermissionDenied)
    assert run("incidents", "approve", "1", actor="guo.jia").exit_code == 0
    assert run("incidents", "approve", "1", actor="liu.yang").exit_code == 0
    r = run("incidents", "publish", "1", "--channel", "官方微博", actor="huang.lei")
    assert r.exit_code == 0 and "官方微博" in r.output
    monkeypatch.setenv("YUQING_ACTOR", "zhou.ting")  # the default actor
    assert run("incidents", "coordinate", "line", "1", "以声明为准").exit_code == 0
    r = run("resources", "add", "media_contact", "某报记者", "--contact", "phone:n/a", actor="feng.tao")
    assert r.exit_code == 0
    r = run("resources", "check")
    assert r.exit_code == 1 and "no_channel" in r.output
    r = run("incidents", "verify", "1")
    assert r.exit_code == 0 and "intact" in r.output
    out = tmp_path / "review.html"
    assert run("incidents", "review", "1", "--format", "html", "-o", str(out)).exit_code == 0
    assert "<h1>" in out.read_text(encoding="utf-8")
