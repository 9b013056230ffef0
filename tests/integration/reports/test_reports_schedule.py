"""``briefs schedule`` driven by a ManualClock: due at 08:00 local, idempotent per period, sent by email
(document attached, to a real SMTP server on 127.0.0.1) and to a robot channel (summary and link)."""

from __future__ import annotations

import email
import email.policy
import json
import socket
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from conftest import need_cjk_font
from yuqing.config import load_settings
from yuqing.core.bus import InProcessBus
from yuqing.core.clock import ManualClock
from yuqing.core.context import AppContext

SH = ZoneInfo("Asia/Shanghai")


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[Any, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope, envelope.original_content or envelope.content))
        return "250 OK"


@pytest.fixture
def cjk_font() -> None:
    """Scheduled briefs carry charts: without a CJK font they are refused, so these tests need one."""
    need_cjk_font()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp():
    sink = Sink()
    ctl = Controller(sink, hostname="127.0.0.1", port=_free_port())
    ctl.start()
    yield sink, ctl.port
    ctl.stop()


def _ctx(db, database_url: str, tmp_path: Path, port: int, clock: ManualClock, **reports: Any) -> AppContext:
    settings = load_settings(
        database_url=database_url,
        secret_key="test-secret-key",
        alerts={
            "channels": {
                "email": {
                    "type": "email",
                    "host": "127.0.0.1",
                    "port": port,
                    "from_addr": "yuqing@bank.example",
                },
                "ops-robot": {"type": "file", "directory": str(tmp_path / "robot")},
            }
        },
        reports={
            "formats": ["html", "docx"],
            "schedule_periods": ["daily", "weekly"],
            "recipients": ["person:zhou.ting", "person:no.email"],
            "channels": ["email"],
            "robot_channels": ["ops-robot"],
            "out_dir": str(tmp_path / "briefs"),
            "link_base": "https://yuqing.bank.example/briefs",
            **reports,
        },
    )
    return AppContext(settings=settings, db=db, clock=clock, bus=InProcessBus())


def _people(ctx: AppContext) -> None:
    from yuqing.org.models import Person

    with ctx.db.session() as s:
        s.add(
            Person(
                key="zhou.ting", name="周婷", email="zhou.ting@bank.example", channels=["email"], active=True
            )
        )
        s.add(Person(key="no.email", name="王五", channels=["email"], active=True))


@pytest.mark.usefixtures("cjk_font")
def test_schedule_sends_each_due_brief_once(db, database_url, tmp_path, smtp, monkeypatch):
    from yuqing.reports.models import SentBrief
    from yuqing.reports.schedule import run_once

    monkeypatch.chdir(tmp_path)
    sink, port = smtp
    clock = ManualClock(datetime(2026, 3, 2, 7, 30, tzinfo=SH))  # Monday 07:30
    ctx = _ctx(db, database_url, tmp_path, port, clock)
    _people(ctx)

    first = run_once(ctx)
    # before 08:00: the latest due daily is Saturday's, the latest due weekly the week of 02-16
    assert [o.key for o in first] == ["daily:2026-02-28:*", "weekly:2026-02-16:*"]
    assert all(o.status == "sent" for o in first)  # the recipient without an address is skipped
    assert all(o.deliveries["person:no.email"] == "skip: no usable channel" for o in first)
    assert len(sink.messages) == 2
    assert run_once(ctx) == []  # idempotent within the period

    clock.set(datetime(2026, 3, 2, 8, 0, tzinfo=SH))
    second = run_once(ctx)
    keys = [o.key for o in second]
    assert "daily:2026-03-01:*" in keys and "weekly:2026-02-23:*" in keys
    # nothing already delivered is delivered again
    envelopes = [env.rcpt_tos for env, _ in sink.messages]
    assert envelopes.count(["zhou.ting@bank.example"]) == 4

    # the email carries the DOCX brief
    _, raw = sink.messages[-1]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert "舆情" in msg["Subject"]
    attachments = [p for p in msg.iter_attachments()]
    assert len(attachments) == 1 and attachments[0].get_filename().endswith(".docx")
    assert attachments[0].get_content().startswith(b"PK")  # a zip (DOCX) container
    # the robot got a summary with a link under link_base
    robot_files = sorted((tmp_path / "robot").glob("*.txt"))
    assert len(robot_files) == 4
    text = robot_files[0].read_text(encoding="utf-8")
    assert "https://yuqing.bank.example/briefs/" in text and "舆情" in text

    with ctx.db.session() as s:
        rows = {r.key: r for r in s.scalars(select(SentBrief))}
    assert set(rows) == {o.key for o in first + second}
    row = rows["daily:2026-03-01:*"]
    assert row.deliveries["person:zhou.ting"] == "ok:email" and row.deliveries["robot:ops-robot"] == "ok"
    assert row.deliveries["person:no.email"].startswith("skip")
    assert row.status == "sent" and all(Path(p).is_file() for p in row.paths)
    assert json.dumps(row.deliveries)


@pytest.mark.usefixtures("cjk_font")
def test_a_fully_delivered_brief_is_never_rebuilt(db, database_url, tmp_path, smtp, monkeypatch):
    from yuqing.reports.models import SentBrief
    from yuqing.reports.schedule import run_once

    monkeypatch.chdir(tmp_path)
    sink, port = smtp
    clock = ManualClock(datetime(2026, 3, 4, 9, 0, tzinfo=SH))
    ctx = _ctx(
        db, database_url, tmp_path, port, clock, recipients=["person:zhou.ting"], schedule_periods=["daily"]
    )
    _people(ctx)
    [out] = run_once(ctx)
    assert out.key == "daily:2026-03-03:*" and out.status == "sent"
    clock.set(datetime(2026, 3, 4, 23, 0, tzinfo=SH))
    assert run_once(ctx) == []
    assert len(sink.messages) == 1
    with ctx.db.session() as s:
        [row] = s.scalars(select(SentBrief)).all()
    assert row.sent_at is not None and row.status == "sent"


@pytest.mark.usefixtures("cjk_font")
def test_failed_deliveries_are_retried_on_the_next_run(db, database_url, tmp_path, monkeypatch):
    from yuqing.reports.schedule import run_once

    monkeypatch.chdir(tmp_path)
    port = _free_port()  # nothing listens yet
    clock = ManualClock(datetime(2026, 3, 4, 9, 0, tzinfo=SH))
    ctx = _ctx(
        db,
        database_url,
        tmp_path,
        port,
        clock,
        recipients=["person:zhou.ting"],
        schedule_periods=["daily"],
        robot_channels=[],
    )
    _people(ctx)
    [out] = run_once(ctx)
    assert out.status == "failed" and out.deliveries["person:zhou.ting"].startswith("error")
    sink = Sink()
    ctl = Controller(sink, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        [again] = run_once(ctx)
    finally:
        ctl.stop()
    assert again.status == "sent" and len(sink.messages) == 1


@pytest.mark.usefixtures("cjk_font")
def test_cli_schedule_once_is_idempotent(db, database_url, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import yuqing.cli as root

    root._load_domain_commands()
    monkeypatch.chdir(tmp_path)
    for key, value in {
        "YUQING_DATABASE_URL": database_url,
        "YUQING_REPORTS__SCHEDULE_PERIODS": '["daily"]',
        "YUQING_REPORTS__FORMATS": '["html"]',
        "YUQING_REPORTS__CHANNELS": "[]",
        "YUQING_REPORTS__OUT_DIR": str(tmp_path / "out"),
    }.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    first = runner.invoke(root.app, ["briefs", "schedule", "--once"])
    assert first.exit_code == 0, first.output
    assert "daily:" in first.output and ".html" in first.output
    [written] = list((tmp_path / "out" / "daily").glob("brief-daily-*.html"))
    assert written.stat().st_size > 0
    second = runner.invoke(root.app, ["briefs", "schedule", "--once"])
    assert second.exit_code == 0 and "nothing due" in second.output


def test_unknown_target_is_a_clear_error(ctx):
    from datetime import date

    from yuqing.errors import NotFound
    from yuqing.reports.service import gather_brief

    with pytest.raises(NotFound, match="watch target not found"):
        gather_brief(ctx, "daily", date(2026, 3, 1), "不存在的银行")
