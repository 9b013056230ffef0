"""Demo step of the sources stage: replay the bundled scenario through the ingest pipeline.

The scenario (:mod:`yuqing.sources.scenario`) is laid out over the four days before the
present. Items are pushed in small vendor batches through the webhook connector, in time
order, with the context's clock set to each batch's arrival time, so every downstream stage
sees ``MENTIONS_INGESTED`` as it would have live. Afterwards the clock is back at the present.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select

from yuqing.core.context import AppContext
from yuqing.sources.base import RawPayload
from yuqing.sources.connectors.webhook import WebhookConnector
from yuqing.sources.models import Mention, Quarantine, Source
from yuqing.sources.scenario import SHANGHAI, SOURCES, TARGETS, ScenarioItem, build_scenario, render_published
from yuqing.sources.service import IngestReport, add_target, ensure_source, ingest_payloads

TIER_ZH = {
    "central_media": "中央媒体",
    "financial_media": "财经媒体",
    "local_media": "地方媒体",
    "self_media": "自媒体",
    "personal": "个人",
    "regulator": "监管机构",
}
BATCH_WINDOW = timedelta(minutes=30)
BATCH_MAX = 25


def _batches(items: list[ScenarioItem]) -> list[list[ScenarioItem]]:
    """Consecutive items of one source within a 30-minute window form one vendor push."""
    out: list[list[ScenarioItem]] = []
    open_batch: dict[str, list[ScenarioItem]] = {}
    for item in items:
        batch = open_batch.get(item.source)
        if batch is None or item.at - batch[0].at > BATCH_WINDOW or len(batch) >= BATCH_MAX:
            batch = []
            open_batch[item.source] = batch
            out.append(batch)
        batch.append(item)
    return out


def _body(source: str, items: list[ScenarioItem], fetched: datetime) -> bytes:
    rendered = []
    for s in items:
        item: dict[str, Any] = dict(s.item)
        item["published"] = render_published(item.get("published"), fetched)
        rendered.append(item)
    return json.dumps({"source": source, "items": rendered}, ensure_ascii=False).encode("utf-8")


def load_scenario(ctx: AppContext) -> tuple[IngestReport, dict[str, int]]:
    """Create the sources and targets, then replay the scenario; returns the report and id map."""
    present = ctx.clock.now()
    scenario = build_scenario(present)
    setter = getattr(ctx.clock, "set", None)
    if setter is not None:
        setter(scenario.start - timedelta(hours=1))
    ids: dict[str, int] = {}
    sources: dict[str, Source] = {}
    for name, platform, tier, _desc in SOURCES:
        src = ensure_source(ctx, name, "webhook", platform=platform, tier=tier, config={})
        sources[name] = src
        ids[name] = src.id
    for target in TARGETS:
        add_target(ctx, **target)
    connector = WebhookConnector()
    report = IngestReport()
    events: list[tuple[datetime, str, Any]] = [(b[-1].at, "batch", b) for b in _batches(scenario.items)]
    events += [(at, "bad", (name, body)) for at, name, body in scenario.bad_payloads]
    events.sort(key=lambda e: e[0])
    fetched = scenario.start
    resent = False
    for at, kind, data in events:
        fetched = max(fetched, at + timedelta(seconds=90))
        if setter is not None:
            setter(fetched)
        if kind == "bad":
            name, body = data
            payload = RawPayload(body=body, url="webhook://vendor/push", content_type="application/json")
            report.merge(ingest_payloads(ctx, sources[name], [payload], connector))
            continue
        name = data[0].source
        body = _body(name, data, fetched)
        payload = RawPayload(body=body, url="webhook://vendor/push", content_type="application/json")
        report.merge(ingest_payloads(ctx, sources[name], [payload], connector))
        if not resent and any(s.source == "微博大V" for s in data):
            # the vendor pushes the same batch twice: exact duplicates, skipped
            report.merge(ingest_payloads(ctx, sources[name], [payload], connector))
            resent = True
    if setter is not None:
        setter(present)
    return report, ids


def run(ctx: AppContext, console: Console) -> None:
    console.rule("[bold]1 信息采集 / ingest")
    report, _ = load_scenario(ctx)
    counts = report.counts()
    console.print(
        "场景：华信银行“0利息”分期手续费与小额账户管理费争议，\n"
        "4 天内从一条黑猫投诉扩散到微博、论坛、媒体与监管。\n"
        "Scenario: Huaxin Bank fee dispute, one complaint → Weibo → forums → media → regulator (4 days).\n"
        f"推送批次 / raw payloads {counts['raw_items']}，新增 / new {counts['new']}，\n"
        f"近似重复归并 / near-dupes linked {counts['near_dupes']}，完全重复跳过 / exact dupes skipped "
        f"{counts['exact_dupes']}，隔离 / quarantined {counts['quarantined']}",
        highlight=False,
    )
    with ctx.db.session() as s:
        per_source = dict(
            s.execute(select(Mention.source_id, func.count()).group_by(Mention.source_id)).all()
        )
        sources = list(s.scalars(select(Source).order_by(Source.id)))
        rows = s.execute(select(Mention.platform, Mention.published_at)).all()
        originals = list(
            s.scalars(
                select(Mention).where(Mention.dup_count > 0).order_by(Mention.dup_count.desc()).limit(5)
            )
        )
        quarantined = list(s.scalars(select(Quarantine).order_by(Quarantine.id)))
    # sources and tiers
    table = Table(title="信源与等级 / sources and tiers")
    for col in ("信源 / source", "平台 / platform", "等级 / tier", "条数 / mentions"):
        table.add_column(col)
    for src in sources:
        tier = f"{TIER_ZH.get(src.tier, src.tier)} / {src.tier}"
        table.add_row(escape(src.name), src.platform, tier, str(per_source.get(src.id, 0)))
    console.print(table)
    # mentions per platform and (local) day
    grid: dict[str, Counter[str]] = defaultdict(Counter)
    days: set[str] = set()
    for platform, published in rows:
        day = published.astimezone(SHANGHAI).strftime("%m-%d")
        days.add(day)
        grid[platform][day] += 1
    ordered = sorted(days)
    table = Table(title="每日各平台信息量 / mentions per platform and day (北京时间)")
    table.add_column("平台 / platform")
    for day in ordered:
        table.add_column(day, justify="right")
    table.add_column("合计 / total", justify="right")
    for platform in sorted(grid, key=lambda p: -sum(grid[p].values())):
        table.add_row(
            platform, *[str(grid[platform][d] or "") for d in ordered], str(sum(grid[platform].values()))
        )
    console.print(table)
    # duplicates folded
    table = Table(title="转发/近似重复归并 / near-duplicates folded into their original")
    for col in ("原帖 / original", "平台", "作者 / author", "副本 / copies", "副本触达 / copies' reach"):
        table.add_column(col)
    for m in originals:
        text = (m.title or m.text).replace("\n", " ")
        table.add_row(
            escape(text[:36]),
            m.platform,
            escape(m.author or "-"),
            str(m.dup_count),
            f"{m.dup_reach:,}",
        )
    console.print(table)
    # quarantine
    table = Table(title="隔离区 / quarantine (yuqing quarantine list|show|replay)")
    for col in ("ID", "环节 / stage", "原因 / reason", "错误 / error"):
        table.add_column(col)
    for q in quarantined:
        table.add_row(str(q.id), q.stage, q.reason, escape(q.error[:70]))
    console.print(table)
