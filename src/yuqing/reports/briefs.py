"""Daily, weekly and monthly briefs (舆情日报 / 周报 / 月报), firm-wide or for one watch target."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from yuqing.core.context import AppContext
from yuqing.core.contracts import LEVEL_NAMES_ZH, STATUS_LABELS
from yuqing.reports import charts
from yuqing.reports.document import Bullets, Chart, Document, Paragraph, Quote, Section, Table
from yuqing.reports.output import draft_wording
from yuqing.reports.service import (
    PERIOD_EN,
    PERIOD_ZH,
    PLATFORM_ZH,
    BriefFacts,
    QuotedMention,
    change_pct,
    fmt_pct,
    gather_brief,
    local,
    platform_name,
)
from yuqing.reports.templating import render_text

STATUS_ZH = {code: zh for code, (zh, _en) in STATUS_LABELS.items()}


def quote_block(q: QuotedMention, tz: str) -> Quote:
    """A verbatim excerpt with where and when it was said (documents quote, never paraphrase)."""
    return Quote(q.excerpt, f"{q.source} · {q.author or '—'} · {local(q.published_at, tz)}", q.url)


OVERDUE_ZH = {"task": "任务", "deadline": "时限", "action": "改进措施"}


def level_text(level: str | None) -> str:
    return f"{level}级（{LEVEL_NAMES_ZH[level]}）" if level else "未定级"


def _bucket_label(f: BriefFacts, i: int) -> str:
    at = f.series[i].start.astimezone(ZoneInfo(f.timezone))
    return f"{at:%H}时" if f.period.bucket == "hour" else f"{at:%m-%d}"


def brief_document(ctx: AppContext, f: BriefFacts) -> Document:
    cfg = ctx.settings.reports
    tz = f.timezone
    scope = f.target or f.organisation
    pname = PERIOD_ZH[f.period.kind]
    title = f"{scope}舆情{pname}"
    summary = render_text(
        cfg.template_dir,
        "brief_summary.txt.j2",
        f=f,
        scope=scope,
        period_name=f"本{ {'daily': '日', 'weekly': '周', 'monthly': '月'}[f.period.kind] }",
        total_change=change_pct(f.total, f.prev_total),
        level_text=level_text,
    )
    doc = Document(
        kind="brief",
        title=title,
        subtitle=f"{f.period.label} · {PERIOD_EN[f.period.kind]} of {scope}",
        organisation=f.organisation,
        classification=cfg.classification,
        generated_at=f.generated_at,
        meta=[
            ("统计周期 / period", f"{local(f.period.start, tz)} 至 {local(f.period.end, tz)}（{tz}）"),
            ("监测范围 / scope", f.target or f"{f.organisation}（全部监测主体 / all targets）"),
            ("信息总量 / mentions", str(f.total)),
            ("负面信息 / negative", f"{f.negative}（{fmt_pct(f.negative_share)}）"),
            ("生成时间 / generated", local(f.generated_at, tz)),
        ],
        summary=summary,
        filename_stem=f"brief-{f.period.kind}-{f.period.first_day.isoformat()}"
        + (f"-{f.target}" if f.target else ""),
    )
    font = charts.find_cjk_font(tuple(cfg.fonts))

    # 1. volume and negative share over time
    labels = [_bucket_label(f, i) for i in range(len(f.series))]
    s1 = Section("一、声量与负面占比 / Volume and negative share")
    s1.blocks.append(
        Chart(
            f"{pname}声量走势（总量、负面、负面占比）",
            charts.volume_chart(
                font,
                f"{scope} 声量走势 / volume",
                labels,
                [p.total for p in f.series],
                [p.negative for p in f.series],
            ),
            alt="volume and negative share per bucket",
        )
    )
    s1.blocks.append(
        Table(
            ("指标 / metric", "本期 / this period", "上期 / previous", "变化 / change"),
            (
                (
                    "信息总量 / mentions",
                    str(f.total),
                    str(f.prev_total),
                    fmt_pct(change_pct(f.total, f.prev_total), True),
                ),
                (
                    "负面信息 / negative",
                    str(f.negative),
                    str(f.prev_negative),
                    fmt_pct(change_pct(f.negative, f.prev_negative), True),
                ),
                (
                    "负面占比 / negative share",
                    fmt_pct(f.negative_share),
                    fmt_pct(f.prev_share),
                    "—"
                    if f.negative_share is None or f.prev_share is None
                    else f"{(f.negative_share - f.prev_share) * 100:+.1f} 个百分点 / pp",
                ),
                ("原创信息 / originals", str(f.originals), "—", "—"),
            ),
            caption="与上一周期对比 / compared with the previous period",
        )
    )
    doc.sections.append(s1)

    # 2. top events
    s2 = Section("二、重点事件 / Top events")
    if f.events:
        s2.blocks.append(
            Table(
                (
                    "事件 / event",
                    "等级 / level",
                    "本期条数 / in period",
                    "累计 / total",
                    "负面占比 / negative",
                    "平台 / platforms",
                ),
                tuple(
                    (
                        f"#{e.event_id} {e.title}",
                        level_text(e.level),
                        str(e.in_period),
                        str(e.mention_count),
                        fmt_pct(e.negative_share),
                        "、".join(PLATFORM_ZH.get(p, p) for p in e.platforms[:6]),
                    )
                    for e in f.events
                ),
            )
        )
        for e in f.events:
            s2.blocks.append(
                Paragraph(
                    f"【#{e.event_id} {e.title}】{local(e.first_seen, tz)} 首次出现，"
                    f"最近 {local(e.last_seen, tz)}；累计 {e.mention_count} 条，本期 {e.in_period} 条，"
                    f"负面占比 {fmt_pct(e.negative_share)}；"
                    f"状态：{STATUS_ZH.get(e.status, e.status)}；"
                    + (f"风险类型：{e.risk_type}；" if e.risk_type else "")
                    + (f"定级依据：{'；'.join(e.level_reasons[:3])}。" if e.level_reasons else "")
                )
            )
            if e.quote:
                q = e.quote
                s2.blocks.append(
                    Quote(
                        q.excerpt,
                        " · ".join(x for x in (q.source, q.author or "", local(q.published_at, tz)) if x),
                        q.url,
                    )
                )
    else:
        s2.blocks.append(Paragraph("本期无事件。/ No events in this period.", "note"))
    doc.sections.append(s2)

    # 3. platform mix
    s3 = Section("三、平台分布 / Platform mix")
    if f.platforms:
        s3.blocks.append(
            Chart(
                "平台分布 / platform mix",
                charts.bar_chart(
                    font,
                    "各平台信息量 / mentions by platform",
                    [platform_name(p) for p, _, _ in f.platforms],
                    [t for _, t, _ in f.platforms],
                ),
            )
        )
        s3.blocks.append(
            Table(
                ("平台 / platform", "信息量 / mentions", "占比 / share", "负面 / negative"),
                tuple(
                    (platform_name(p), str(t), fmt_pct(t / f.total if f.total else None), str(n))
                    for p, t, n in f.platforms
                ),
            )
        )
    else:
        s3.blocks.append(Paragraph("本期无信息。/ No mentions.", "note"))
    doc.sections.append(s3)

    # 4. influential negative mentions
    s4 = Section("四、重点负面信息 / Most influential negative mentions")
    if f.negative_mentions:
        s4.blocks.append(
            Table(
                ("标题 / title", "来源 / source", "作者 / author", "时间 / time", "影响力 / influence"),
                tuple(
                    (q.title, q.source, q.author or "—", local(q.published_at, tz), f"{q.influence:.0f}")
                    for q in f.negative_mentions
                ),
                links=tuple(q.url for q in f.negative_mentions),
            )
        )
        for q in f.negative_mentions[:3]:
            s4.blocks.append(quote_block(q, tz))
    else:
        s4.blocks.append(Paragraph("本期无负面信息。/ No negative mentions.", "note"))
    doc.sections.append(s4)

    # 5. risk types
    s5 = Section("五、风险类型 / Risk types seen")
    if f.risk_types:
        s5.blocks.append(
            Table(
                ("风险类型 / risk type", "负面信息数 / negative mentions"),
                tuple((r, str(n)) for r, n in f.risk_types),
            )
        )
    else:
        s5.blocks.append(Paragraph("本期未识别到风险类型。/ No risk types identified.", "note"))
    doc.sections.append(s5)

    # 6. incidents and overdue work
    s6 = Section("六、应急处置与逾期事项 / Open incidents and overdue actions")
    if f.open_incidents:
        s6.blocks.append(
            Table(
                ("应急事件 / incident", "等级 / level", "状态 / status", "启动时间 / opened"),
                tuple(
                    (
                        f"#{i.incident_id} {i.title}",
                        level_text(i.level),
                        STATUS_ZH.get(i.status, i.status),
                        local(i.opened_at, tz),
                    )
                    for i in f.open_incidents
                ),
            )
        )
    else:
        s6.blocks.append(Paragraph("目前无处置中的应急事件。/ No open incidents.", "note"))
    if f.overdue:
        s6.blocks.append(
            Table(
                ("应急事件 / incident", "类别 / kind", "事项 / item", "负责人 / owner", "应完成 / due"),
                tuple(
                    (
                        f"#{o.incident_id}",
                        OVERDUE_ZH.get(o.kind, o.kind),
                        o.title,
                        o.owner or "—",
                        local(o.due_at, tz),
                    )
                    for o in f.overdue
                ),
                caption=f"逾期事项 {len(f.overdue)} 项 / overdue",
            )
        )
    else:
        s6.blocks.append(Paragraph("无逾期事项。/ Nothing overdue.", "note"))
    doc.sections.append(s6)
    s6.blocks.append(
        Bullets(
            (
                "本报告内容均由系统根据采集数据统计、摘录生成，引文保留原始出处。",
                "Figures are computed from the collected data; quotes keep their sources.",
            )
        )
    )
    doc.draft = draft_wording(ctx, summary)
    return doc


def make_brief(ctx: AppContext, period: str, day: date, target: str | None = None) -> Document:
    return brief_document(ctx, gather_brief(ctx, period, day, target))
