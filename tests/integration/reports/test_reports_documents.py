"""Every document built from the demo scenario (replayed through the services) in every format.

The scenario runs once per module (sources → analysis → events → alerts → incidents); the DOCX is
opened back with python-docx, the PDF's text extracted with pypdf, the HTML parsed for its charts.
"""

from __future__ import annotations

import base64
import io
import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from sqlalchemy import func, select

from conftest import need_cjk_font
from yuqing.config import load_settings
from yuqing.core.bus import InProcessBus
from yuqing.core.clock import ManualClock
from yuqing.core.context import AppContext

STEPS = ("sources", "analysis", "events", "incidents")  # alerts add nothing documents read


@pytest.fixture(scope="module")
def demo_ctx(migrated_db, database_url, tmp_path_factory):
    """The demo scenario replayed into the (emptied) test database; the clock stands at its present."""
    import importlib
    from datetime import UTC, datetime

    from conftest import truncate_all
    from yuqing.core.pipeline import register_stages

    need_cjk_font()
    truncate_all(migrated_db)
    work = tmp_path_factory.mktemp("reports-demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        settings = load_settings(database_url=database_url, secret_key="test-secret-key")
        ctx = AppContext(
            settings=settings,
            db=migrated_db,
            clock=ManualClock(datetime(2026, 3, 5, 2, 0, tzinfo=UTC)),
            bus=InProcessBus(),
        )
        register_stages(ctx, STEPS)
        quiet = Console(file=io.StringIO(), width=140)
        for step in STEPS:
            importlib.import_module(f"yuqing.{step}.demo").run(ctx, quiet)
        yield ctx, work
    truncate_all(migrated_db)


def _docx(path: Path):
    import docx

    return docx.Document(str(path))


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def _heading_texts(d) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in d.paragraphs if p.style.name.startswith(("Heading", "Title"))]


def _footer_xml(d) -> str:
    return d.sections[0].footer._element.xml


def test_daily_brief_in_every_format(demo_ctx):
    from yuqing.analysis.models import TargetMatchRecord
    from yuqing.reports.briefs import brief_document
    from yuqing.reports.output import write_documents
    from yuqing.reports.service import gather_brief, own_target_ids
    from yuqing.sources.models import Mention

    ctx, work = demo_ctx
    tz = ZoneInfo(ctx.settings.timezone)
    day = (ctx.clock.now().astimezone(tz) - timedelta(days=1)).date()
    facts = gather_brief(ctx, "daily", day)
    # the numbers are the stored facts: count independently
    with ctx.db.session() as s:
        own = own_target_ids(s)
        expected_total = s.scalar(
            select(func.count(func.distinct(Mention.id)))
            .join(TargetMatchRecord, TargetMatchRecord.mention_id == Mention.id)
            .where(
                TargetMatchRecord.target_id.in_(own),
                Mention.published_at >= facts.period.start,
                Mention.published_at < facts.period.end,
            )
        )
    assert facts.total == expected_total > 0
    assert 0 < facts.negative <= facts.total
    assert sum(p.total for p in facts.series) == facts.total and len(facts.series) == 24
    assert sum(t for _, t, _ in facts.platforms) == facts.total
    assert facts.events and facts.events[0].level is not None
    assert facts.negative_mentions and all(q.source for q in facts.negative_mentions)
    doc = brief_document(ctx, facts)
    paths = write_documents(ctx, doc, ["html", "docx", "pdf"], work / "out")
    assert [p.suffix for p in paths] == [".html", ".docx", ".pdf"] and all(
        p.stat().st_size > 1000 for p in paths
    )
    title = "华信银行舆情日报"
    assert doc.title == title

    html = paths[0].read_text(encoding="utf-8")
    assert f"<title>{title}</title>" in html
    assert html.count("data:image/png;base64,") >= 2  # charts inline
    assert "<link " not in html and 'src="http' not in html  # self-contained
    assert f"{facts.total}" in html

    d = _docx(paths[1])
    heads = _heading_texts(d)
    assert ("Title", title) in heads
    h1 = [t for s, t in heads if s == "Heading 1"]
    assert h1[0] == "摘要 / Summary"
    assert (
        "二、重点事件 / Top events" in h1
        and "六、应急处置与逾期事项 / Open incidents and overdue actions" in h1
    )
    assert len(d.tables) >= 6
    meta = {r.cells[0].text: r.cells[1].text for r in d.tables[0].rows}
    assert meta["信息总量 / mentions"] == str(facts.total)
    events_table = next(t for t in d.tables if t.rows[0].cells[0].text == "事件 / event")
    assert len(events_table.rows) == len(facts.events) + 1
    assert f"#{facts.events[0].event_id}" in events_table.rows[1].cells[0].text
    footer = _footer_xml(d)
    assert "PAGE" in footer and "NUMPAGES" in footer
    assert 'w:eastAsia="Microsoft YaHei"' in d.paragraphs[0]._p.xml
    assert len(d.inline_shapes) >= 2

    text = _pdf_text(paths[2])
    assert title in text
    assert (
        f"信息总量 / mentions\n{facts.total}" in text or f"共监测到华信银行相关信息 {facts.total} 条" in text
    )
    assert f"{facts.negative_share:.1%}" in text


def test_weekly_brief_for_a_target_compares_with_the_previous_week(demo_ctx):
    from yuqing.reports.briefs import make_brief
    from yuqing.reports.output import write_documents

    ctx, work = demo_ctx
    today = ctx.clock.now().astimezone(ZoneInfo(ctx.settings.timezone)).date()
    doc = make_brief(ctx, "weekly", today, "华信银行")
    assert doc.title == "华信银行舆情周报"
    [pdf] = write_documents(ctx, doc, ["pdf"], work / "weekly")
    text = _pdf_text(pdf)
    assert "华信银行舆情周报" in text and "与上一周期对比" in text


def test_event_report_in_every_format(demo_ctx):
    from yuqing.events.models import Event, EventLevelChange
    from yuqing.reports.event_report import event_document
    from yuqing.reports.output import write_documents
    from yuqing.reports.service import gather_event

    ctx, work = demo_ctx
    with ctx.db.session() as s:
        ev = s.scalars(
            select(Event).where(Event.level.is_not(None)).order_by(Event.mention_count.desc())
        ).first()
        assert ev is not None
        changes = s.scalar(select(func.count()).where(EventLevelChange.event_id == ev.id))
    facts = gather_event(ctx, ev.id)
    assert facts.mention_count == ev.mention_count
    assert facts.first_mention is not None and facts.first_mention.published_at == min(
        a for _, a, _, _ in facts.spread
    )
    assert sum(n for _, _, n, _ in facts.spread) == ev.mention_count
    assert len(facts.level_history) == changes > 0
    assert facts.representative
    doc = event_document(ctx, facts)
    html_p, docx_p, pdf_p = write_documents(ctx, doc, ["html", "docx", "pdf"], work / "event")
    d = _docx(docx_p)
    h1 = [t for s, t in _heading_texts(d) if s == "Heading 1"]
    for h in (
        "一、起源 / How it started",
        "二、传播路径 / Where it spread and when",
        "四、等级变化 / Level history",
    ):
        assert h in h1
    level_table = next(t for t in d.tables if t.rows[0].cells[0].text == "时间 / at")
    assert len(level_table.rows) == changes + 1
    text = _pdf_text(pdf_p)
    assert "舆情事件报告" in text and str(ev.mention_count) in text
    assert html_p.read_text(encoding="utf-8").count("data:image/png;base64,") == 2


def test_review_report_in_every_format(demo_ctx):
    from yuqing.incidents.models import ImprovementAction, Incident
    from yuqing.reports.output import write_documents
    from yuqing.reports.review_report import make_review_report

    ctx, work = demo_ctx
    with ctx.db.session() as s:
        inc = s.scalars(select(Incident).order_by(Incident.id)).first()
        assert inc is not None
        actions = list(s.scalars(select(ImprovementAction)))
    doc = make_review_report(ctx, inc.id)
    html_p, docx_p, pdf_p = write_documents(ctx, doc, ["html", "docx", "pdf"], work / "review")
    d = _docx(docx_p)
    heads = _heading_texts(d)
    assert ("Title", doc.title) in heads and doc.title.startswith("舆情应急事件总结评估报告")
    h1 = [t for s, t in heads if s == "Heading 1"]
    assert "三、响应时效 / Response times against the deadlines" in h1
    assert "六、改进措施 / Improvement actions" in h1
    timeline = next(t for t in d.tables if t.rows[0].cells[0].text == "序号 / #")
    kinds = [r.cells[2].text for r in timeline.rows[1:]]
    assert kinds[0] == "启动应急 / opened" and not any("event_volume" in k for k in kinds)
    assert "None" not in {r.cells[3].text for r in timeline.rows[1:]}
    deadlines = next(t for t in d.tables if t.rows[0].cells[0].text == "时限 / deadline")
    assert len(deadlines.rows) > 1 and all(r.cells[4].text for r in deadlines.rows[1:])
    if actions:
        table = next(t for t in d.tables if t.rows[0].cells[0].text == "措施 / action")
        assert {r.cells[1].text for r in table.rows[1:]} == {a.owner for a in actions}
    text = _pdf_text(pdf_p)
    assert "总结评估报告" in text and "改进措施" in text
    assert "完整，未被篡改" in html_p.read_text(encoding="utf-8")


def test_demo_step_writes_the_documents(demo_ctx):
    from yuqing.reports import demo

    ctx, work = demo_ctx
    buf = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        demo.run(ctx, Console(file=buf, width=160))
    out = buf.getvalue()
    written = sorted(p.name for p in (work / "yuqing-demo-reports").iterdir())
    assert any(n.startswith("brief-daily-") and n.endswith(".pdf") for n in written)
    assert any(n.startswith("event-") and n.endswith(".docx") for n in written)
    assert "yuqing-demo-reports/brief-daily-" in out and "舆情日报" in out


def test_cli_briefs_make_defaults_and_paths(demo_ctx, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    import yuqing.cli as root

    ctx, _ = demo_ctx
    root._load_domain_commands()
    monkeypatch.setenv("YUQING_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(root.app, ["briefs", "make", "--period", "daily", "--format", "html,docx"])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 2 and all((tmp_path / ln).is_file() for ln in lines)  # current directory by default
    result = runner.invoke(root.app, ["reports", "review", "999999", "--out", "x"])
    assert result.exit_code != 0 and "999999" in str(result.exception)


def test_untrusted_text_is_escaped_everywhere(demo_ctx):
    """A hostile title is shown as text in HTML, kept literal in DOCX and PDF."""
    from datetime import UTC, datetime

    from yuqing.reports.document import Document, Quote, Section, Table
    from yuqing.reports.output import write_documents

    ctx, work = demo_ctx
    evil = '<script>alert("x")</script> & <b>粗体</b>'
    doc = Document(
        kind="brief",
        title="测试文档",
        subtitle=evil,
        organisation="华信银行",
        classification="内部",
        generated_at=datetime(2026, 3, 1, tzinfo=UTC),
        sections=[
            Section(
                "一、测试",
                [
                    Quote(evil, "来源\x07", "javascript:alert(1)"),
                    Table(("a", "b"), ((evil, "1"),), links=("javascript:alert(2)",)),
                ],
            )
        ],
        filename_stem="evil",
    )
    html_p, docx_p, pdf_p = write_documents(ctx, doc, ["html", "docx", "pdf"], work / "evil")
    html = html_p.read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html and "javascript:" not in html
    assert evil in "\n".join(c.text for t in _docx(docx_p).tables for r in t.rows for c in r.cells)
    assert "<script>" in _pdf_text(pdf_p)  # drawn literally, not parsed as markup


def test_chart_png_is_decodable(demo_ctx):
    from yuqing.reports.briefs import make_brief

    ctx, _ = demo_ctx
    doc = make_brief(ctx, "monthly", ctx.clock.now().date())
    charts = [b for s in doc.sections for b in s.blocks if type(b).__name__ == "Chart"]
    assert charts and all(c.png.startswith(b"\x89PNG") for c in charts)
    assert re.fullmatch(r"brief-monthly-\d{4}-\d{2}-01", doc.filename_stem)
    assert base64.b64encode(charts[0].png)
