"""``yuqing ingest`` / ``sources`` / ``quarantine`` commands, the CFPB export, and the demo scenario."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, select
from typer.testing import CliRunner

from yuqing.core.context import AppContext
from yuqing.core.db import Database
from yuqing.sources.models import Mention, Quarantine, Source, Target

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"  # as tests/conftest.py
CFPB = SHARED_DATA / "cfpb_complaints" / "complaints_sample_ziyuyan9.csv"


@pytest.fixture
def cli(db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("YUQING_DATABASE_URL", database_url)
    from yuqing.cli import _load_domain_commands
    from yuqing.core import pipeline

    _load_domain_commands()
    # The commands run every registered stage; here only ours, so other domains' work in
    # progress cannot break (or slow) the ingest tests.
    original = pipeline.register_stages
    monkeypatch.setattr(pipeline, "register_stages", lambda ctx, stages=("sources",): original(ctx, stages))
    return CliRunner()


def run(cli: CliRunner, *args: str) -> str:
    from yuqing.core.cli import app

    result = cli.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_cfpb_export_imports_with_the_shipped_mapping(ctx: AppContext) -> None:
    """All 6,623 rows through the shipped mapping, no code change (the CLI path minus downstream stages)."""
    if not CFPB.is_file():
        pytest.skip(f"shared data missing: {CFPB}")
    from yuqing.sources.connectors.file import FileConnector, iter_payloads
    from yuqing.sources.mapping import load_mapping
    from yuqing.sources.service import ensure_source, ingest_payloads

    defaults = load_mapping("cfpb").source
    src = ensure_source(
        ctx,
        "cfpb",
        "file",
        platform=defaults["platform"],
        tier=defaults["tier"],
        config={**defaults["config"], "mapping": "cfpb"},
    )
    report = ingest_payloads(ctx, src, iter_payloads(CFPB), FileConnector())
    assert report.new == 6623 and report.quarantined == 0 and report.raw_items == 7
    with ctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Mention)) == 6623
        no_narrative = s.scalar(select(func.count()).select_from(Mention).where(Mention.text.like("%: %")))
        assert no_narrative and no_narrative > 4000
        assert s.scalar(select(func.count(func.distinct(Mention.external_id)))) == 6623
    # importing the same file again adds nothing
    again = ingest_payloads(ctx, src, iter_payloads(CFPB), FileConnector())
    assert again.new == 0 and again.exact_dupes == 6623


def test_cli_ingest_with_a_mapping_by_name(cli: CliRunner, tmp_path: Path, db: Database) -> None:
    if not CFPB.is_file():
        pytest.skip(f"shared data missing: {CFPB}")
    head = CFPB.read_bytes().split(b"\n")
    sample = tmp_path / "cfpb_head.csv"
    sample.write_bytes(b"\n".join(head[:60]) + b"\n")  # a prefix (may end inside a quoted narrative)
    out = run(cli, "ingest", str(sample), "--source", "cfpb", "--mapping", "cfpb")
    assert "新增 / new" in out
    with db.session() as s:
        src = s.scalars(select(Source)).one()
        assert (src.platform, src.kind, src.config["mapping"]) == ("complaint", "file", "cfpb")
        stored = s.scalar(select(func.count()).select_from(Mention))
        quarantined = s.scalar(select(func.count()).select_from(Quarantine))
    assert stored and stored >= 20 and (quarantined or 0) <= 1  # at most the cut-off last row


def test_ingest_bad_file_then_quarantine_commands(cli: CliRunner, tmp_path: Path, db: Database) -> None:
    path = tmp_path / "posts.csv"
    path.write_bytes("title,text,id\n华信银行,分期手续费,1\nbad,row\n东岳银行,三季报,3\n".encode())
    out = run(cli, "ingest", str(path), "--source", "posts", "--platform", "forum")
    assert "隔离" in out
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Mention)) == 2
        entry = s.scalars(select(Quarantine)).one()
    listing = json.loads(run(cli, "quarantine", "list", "--json"))
    assert listing[0]["reason"] == "wrong_column_count"
    shown = run(cli, "quarantine", "show", str(entry.id))
    assert "wrong_column_count" in shown and "bad,row" in shown
    run(cli, "quarantine", "replay", str(entry.id))
    with db.session() as s:
        assert s.get(Quarantine, entry.id).status == "failed"  # type: ignore[union-attr]


def test_sources_add_and_list(cli: CliRunner) -> None:
    run(
        cli,
        "sources",
        "add",
        "央视财经",
        "--kind",
        "rss",
        "--url",
        "https://e.cn/rss",
        "--tier",
        "central_media",
    )
    listed = json.loads(run(cli, "sources", "list", "--json"))
    assert listed[0]["name"] == "央视财经" and listed[0]["tier"] == "central_media"
    from yuqing.core.cli import app
    from yuqing.errors import YuqingError

    with pytest.raises(YuqingError):
        cli.invoke(app, ["sources", "add", "x", "--kind", "nope"], catch_exceptions=False)
    with pytest.raises(YuqingError):
        cli.invoke(app, ["sources", "add", "央视财经", "--kind", "rss"], catch_exceptions=False)


def test_demo_scenario(ctx: AppContext) -> None:
    from yuqing.sources import demo

    present = ctx.clock.now()
    out = io.StringIO()
    demo.run(ctx, Console(file=out, width=160))
    assert ctx.clock.now() == present
    text = out.getvalue()
    assert "华信银行" in text or "隔离区" in text
    with ctx.db.session() as s:
        mentions = s.scalars(select(Mention)).all()
        targets = {t.name: t for t in s.scalars(select(Target))}
        quarantined = s.scalars(select(Quarantine)).all()
        tiers = {src.tier for src in s.scalars(select(Source))}
    assert 400 <= len(mentions) <= 600
    assert all(m.published_at <= present for m in mentions)
    assert min(m.published_at for m in mentions) >= present - __import__("datetime").timedelta(days=5)
    platforms = Counter(m.platform for m in mentions)
    assert {"complaint", "weibo", "news", "xueqiu", "tieba", "zhihu", "twitter", "regulator"} <= set(
        platforms
    )
    assert Counter(m.lang for m in mentions)["en"] >= 10
    assert sum(1 for m in mentions if m.duplicate_of_id is not None) >= 150
    top = max(mentions, key=lambda m: m.dup_count)
    assert top.dup_count >= 100 and top.author == "财经评论员老K"
    assert len(quarantined) == 3
    assert tiers >= {"central_media", "financial_media", "local_media", "self_media", "personal", "regulator"}
    assert targets["华信银行"].exclude == ["招聘"] and targets["东岳银行"].is_own is False
    # deterministic: the same present gives the same story
    from yuqing.sources.scenario import build_scenario

    a, b = build_scenario(present), build_scenario(present)
    assert [i.item for i in a.items] == [i.item for i in b.items]
