"""``yuqing alerts …`` commands against the test database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from yuqing.alerts import service
from yuqing.core.context import AppContext


@pytest.fixture
def cli(ctx: AppContext, database_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from yuqing.cli import _load_domain_commands
    from yuqing.core.cli import app
    from yuqing.org.service import load_org_file

    monkeypatch.setenv("YUQING_DATABASE_URL", database_url)
    monkeypatch.setenv("YUQING_SECRET_KEY", "test-secret-key")
    ctx.clock.set(datetime.now(UTC))  # type: ignore[attr-defined]  # the CLI runs on the system clock
    with ctx.db.session() as s:
        load_org_file(s, None, now=ctx.clock.now())
        alert = service.raise_alert(
            ctx,
            s,
            kind="event",
            title="信用卡盗刷投诉集中爆发",
            level="II",
            reasons=["投诉量激增"],
            subject_type="event",
            subject_id=1,
            dedup_key="event:1:level:II",
        )
    _load_domain_commands()
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        r = runner.invoke(app, ["alerts", *args], env={"COLUMNS": "200"})
        return r.exit_code, r.output

    run.alert_id = alert.id  # type: ignore[attr-defined]
    return run


def test_list_show_route_ack_stats(cli) -> None:  # type: ignore[no-untyped-def]
    aid = cli.alert_id
    code, out = cli("list")
    assert code == 0 and "信用卡盗刷投诉集中爆发" in out
    code, out = cli("show", str(aid))
    assert code == 0 and "level-ii-leaders" in out and "zhou.ting" in out and "pending" in out
    code, out = cli("route", "--level", "I", "--kind", "event")
    assert code == 0 and "chen.jianguo" in out and "level-i-chief" in out
    code, out = cli("dispatch", "--once")
    assert code == 0 and "已发送 sent 4" in out
    code, out = cli("ack", str(aid), "--by", "zhou.ting")
    assert code == 0 and "zhou.ting" in out
    code, out = cli("stats")
    assert code == 0 and "II" in out and "file" in out
    code, out = cli("test-channel", "file", "--to", "zhou.ting")
    assert code == 0 and "yq-test/file/" in out
