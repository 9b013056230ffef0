"""The event report: one event's story — start, spread, sources and authors, levels, sentiment, quotes."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from yuqing.core.context import AppContext
from yuqing.reports import charts
from yuqing.reports.briefs import STATUS_ZH, level_text, quote_block
from yuqing.reports.document import Chart, Document, Paragraph, Section, Table
from yuqing.reports.output import draft_wording
from yuqing.reports.service import EventReportFacts, fmt_pct, gather_event, local, platform_name
from yuqing.reports.templating import render_text


def event_document(ctx: AppContext, f: EventReportFacts) -> Document:
    cfg = ctx.settings.reports
    tz = f.timezone
    summary = render_text(
        cfg.template_dir,
        "event_summary.txt.j2",
        f=f,
        first_seen=local(f.first_seen, tz),
        last_seen=local(f.last_seen, tz),
        level_text=level_text,
    )
    doc = Document(
        kind="event",
        title=f"舆情事件报告：{f.title}",
        subtitle=f"Event report #{f.event_id}",
        organisation=f.organisation,
        classification=cfg.classification,
        generated_at=f.generated_at,
        meta=[
            ("事件编号 / event", f"#{f.event_id}"),
            ("当前等级 / level", level_text(f.level)),
            ("状态 / status", STATUS_ZH.get(f.status, f.status)),
            ("风险类型 / risk type", f.risk_type or "—"),
            ("首次出现 / first seen", local(f.first_seen, tz)),
            ("最近出现 / last seen", local(f.last_seen, tz)),
            ("信息总量 / mentions", str(f.mention_count)),
            ("负面 / negative", f"{f.negative_count}（{fmt_pct(f.negative_share)}）"),
            ("关键词 / keywords", "、".join(f.keywords[:10]) or "—"),
        ],
        summary=summary,
        filename_stem=f"event-{f.event_id}",
    )
    font = charts.find_cjk_font(tuple(cfg.fonts))

    s1 = Section("一、起源 / How it started")
    if f.first_mention:
        q = f.first_mention
        s1.blocks.append(
            Paragraph(
                f"首条信息于 {local(q.published_at, tz)} 出现在 {q.source}（{platform_name(q.platform)}）"
                + (f"，作者 {q.author}" if q.author else "")
                + "。"
            )
        )
        s1.blocks.append(quote_block(q, tz))
    else:
        s1.blocks.append(Paragraph("无可用的首发信息。/ The first mention is not available.", "note"))
    doc.sections.append(s1)

    s2 = Section("二、传播路径 / Where it spread and when")
    if f.spread:
        s2.blocks.append(
            Table(
                ("平台 / platform", "首次出现 / first", "信息量 / mentions", "负面 / negative"),
                tuple((platform_name(p), local(at, tz), str(n), str(neg)) for p, at, n, neg in f.spread),
            )
        )
    if f.buckets:
        labels = [b[0].astimezone(ZoneInfo(tz)).strftime("%d日%H时") for b in f.buckets]
        s2.blocks.append(
            Chart(
                "每小时声量 / hourly volume",
                charts.volume_chart(
                    font,
                    f"事件声量 / volume #{f.event_id}",
                    labels,
                    [b[1] for b in f.buckets],
                    [b[2] for b in f.buckets],
                    share=False,
                ),
            )
        )
    doc.sections.append(s2)

    s3 = Section("三、主要信源与作者 / Key sources and authors")
    if f.sources:
        s3.blocks.append(
            Table(
                ("信源 / source", "信息量 / mentions", "负面 / negative"),
                tuple((n, str(c), str(neg)) for n, c, neg in f.sources),
            )
        )
    if f.authors:
        s3.blocks.append(
            Table(
                ("作者 / author", "信息量 / mentions", "粉丝数 / followers"),
                tuple((a, str(c), f"{fl:,}") for a, c, fl in f.authors),
            )
        )
    if not f.sources and not f.authors:
        s3.blocks.append(Paragraph("无数据。/ No data.", "note"))
    doc.sections.append(s3)

    s4 = Section("四、等级变化 / Level history")
    if f.level_history:
        s4.blocks.append(
            Table(
                ("时间 / at", "原等级 / from", "新等级 / to", "依据 / reasons", "操作 / by"),
                tuple(
                    (
                        local(at, tz),
                        level_text(old) if old else "—",
                        level_text(new),
                        "；".join(reasons) or "—",
                        by,
                    )
                    for at, old, new, reasons, by in f.level_history
                ),
            )
        )
    else:
        s4.blocks.append(Paragraph("尚未定级。/ Not graded yet.", "note"))
    doc.sections.append(s4)

    s5 = Section("五、情感走势 / Sentiment curve")
    if f.buckets:
        labels = [b[0].astimezone(ZoneInfo(tz)).strftime("%d日%H时") for b in f.buckets]
        s5.blocks.append(
            Chart(
                "平均负面概率 / mean negative probability",
                charts.sentiment_chart(
                    font, "情感走势 / sentiment", [b[0] for b in f.buckets], [b[3] for b in f.buckets], labels
                ),
            )
        )
        peak = max(f.buckets, key=lambda b: (b[2], b[1]))
        s5.blocks.append(
            Paragraph(f"负面信息最多的小时为 {local(peak[0], tz)}，共 {peak[1]} 条，其中负面 {peak[2]} 条。")
        )
    else:
        s5.blocks.append(Paragraph("无按小时统计数据。/ No hourly data.", "note"))
    doc.sections.append(s5)

    s6 = Section("六、代表性信息 / Representative mentions")
    for q in f.representative:
        s6.blocks.append(quote_block(q, tz))
    if not f.representative:
        s6.blocks.append(Paragraph("无。/ None.", "note"))
    doc.sections.append(s6)

    if f.incidents:
        s7 = Section("七、应急处置 / Incidents")
        s7.blocks.append(
            Table(
                ("应急事件 / incident", "等级 / level", "状态 / status", "启动 / opened"),
                tuple(
                    (
                        f"#{i.incident_id} {i.title}",
                        level_text(i.level),
                        STATUS_ZH.get(i.status, i.status),
                        local(i.opened_at, tz),
                    )
                    for i in f.incidents
                ),
            )
        )
        doc.sections.append(s7)
    doc.draft = draft_wording(ctx, summary)
    return doc


def make_event_report(ctx: AppContext, event_id: int) -> Document:
    return event_document(ctx, gather_event(ctx, event_id))
