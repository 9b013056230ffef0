"""The incident review report (总结评估报告): the emergency-response stage's review as a formal document."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from yuqing.core.context import AppContext
from yuqing.incidents.timeline import KIND_LABELS
from yuqing.reports import charts
from yuqing.reports.briefs import STATUS_ZH, level_text
from yuqing.reports.document import Bullets, Chart, Document, Paragraph, Section, Table
from yuqing.reports.output import draft_wording
from yuqing.reports.service import ReviewFacts, gather_review, local
from yuqing.reports.templating import render_text

ACTION_ZH = {"open": "未完成", "done": "已完成"}
KIND_ZH = {kind: zh for kind, (zh, _en) in KIND_LABELS.items() if kind != "event_volume"}
SAMPLE_KINDS = ("event_volume",)  # periodic volume samples: measured, not narrated


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    h, rem = divmod(s, 3600)
    return f"{sign}{h}小时{rem // 60:02d}分" if h else f"{sign}{rem // 60}分钟"


def _deadline_label(kind: str) -> str:
    try:
        from yuqing.incidents.deadlines import deadline_label

        return deadline_label(kind)
    except (ImportError, KeyError):
        return kind


def review_document(ctx: AppContext, f: ReviewFacts) -> Document:
    cfg = ctx.settings.reports
    d = f.doc
    tz = ctx.settings.timezone
    m = d.metrics
    durations = {
        "detect": _duration(m.time_to_detect_s),
        "report": _duration(m.time_to_report_s),
        "statement": _duration(m.time_to_first_statement_s),
        "containment": _duration(m.time_to_containment_s),
    }
    published = sum(1 for s in d.statements if s.get("published_at"))
    summary = render_text(
        cfg.template_dir,
        "review_summary.txt.j2",
        d=d,
        opened=local(d.opened_at, tz),
        closed=local(d.closed_at, tz),
        durations=durations,
        published=published,
        level_text=level_text,
    )
    doc = Document(
        kind="review",
        title=f"舆情应急事件总结评估报告：{d.title}",
        subtitle=f"Incident review report #{d.incident_id} — for the management group and the regulator",
        organisation=f.organisation,
        classification=cfg.classification,
        generated_at=d.generated_at or ctx.clock.now(),
        meta=[
            ("应急事件 / incident", f"#{d.incident_id}"),
            ("等级 / level", level_text(d.level)),
            ("状态 / status", STATUS_ZH.get(d.status, d.status)),
            ("启动时间 / opened", local(d.opened_at, tz)),
            ("关闭时间 / closed", local(d.closed_at, tz)),
            (
                "报送对象 / for",
                "应急管理小组；必要时报送监管部门 / management group; the regulator where required",
            ),
            (
                "时间线校验 / timeline",
                "完整，未被篡改 / intact" if d.chain_ok else "校验失败，可能被篡改 / verification FAILED",
            ),
        ],
        summary=summary + (f"\n\n事件概述：{f.summary}" if f.summary else ""),
        filename_stem=f"review-incident-{d.incident_id}",
    )

    s1 = Section("一、事件概况 / Overview")
    if f.events:
        s1.blocks.append(
            Table(
                ("关联舆情事件 / event", "等级 / level", "信息量 / mentions"),
                tuple((f"#{i} {t}", level_text(lv), str(n)) for i, t, lv, n in f.events),
            )
        )
    for at, actor, assessment, strategy in f.decisions:
        s1.blocks.append(
            Paragraph(
                f"{local(at, tz)} 管理小组研判（{actor}）："
                + (f"研判：{assessment}；" if assessment else "")
                + (f"策略：{strategy}" if strategy else "")
            )
        )
    if not f.events and not f.decisions:
        s1.blocks.append(Paragraph("无关联事件与决策记录。/ No linked events or decisions.", "note"))
    doc.sections.append(s1)

    s2 = Section("二、处置时间线 / Timeline")
    narrated = [e for e in d.timeline if e["kind"] not in SAMPLE_KINDS]
    if narrated:
        s2.blocks.append(
            Table(
                ("序号 / #", "时间 / at", "事项 / kind", "人员 / actor", "内容 / detail"),
                tuple(
                    (
                        str(e["seq"]),
                        local(e["at"], tz),
                        f"{KIND_ZH[e['kind']]} / {e['kind']}" if e["kind"] in KIND_ZH else str(e["kind"]),
                        str(e["actor"] or "系统 / system"),
                        str(e["summary"]),
                    )
                    for e in narrated
                ),
            )
        )
    if len(narrated) < len(d.timeline):
        s2.blocks.append(
            Paragraph(
                f"另有 {len(d.timeline) - len(narrated)} 条声量采样记录未列出（见第三部分图表）"
                f" / {len(d.timeline) - len(narrated)} volume samples omitted (see the chart in part 3).",
                "note",
            )
        )
    doc.sections.append(s2)

    s3 = Section("三、响应时效 / Response times against the deadlines")
    s3.blocks.append(
        Table(
            ("指标 / metric", "实际用时 / measured"),
            (
                ("发现用时 / time to detect", durations["detect"]),
                ("报告管理小组 / time to report", durations["report"]),
                ("首次发布声明 / time to first statement", durations["statement"]),
                ("舆情得到控制 / time to containment", durations["containment"]),
                ("负面峰值 / negative peak", f"{m.peak_negative}（{local(m.peak_at, tz)}）"),
            ),
        )
    )
    if f.deadlines:
        rows = []
        for kind, due, met in f.deadlines:
            if met is None:
                verdict = "未完成 / not met"
            elif met <= due:
                verdict = f"按时，提前 {_duration((due - met).total_seconds())} / on time"
            else:
                verdict = f"超时 {_duration((met - due).total_seconds())} / late"
            used = _duration((met - d.opened_at).total_seconds()) if met else "—"
            limit = _duration((due - d.opened_at).total_seconds())
            rows.append((_deadline_label(kind), limit, used, local(met, tz), verdict))
        s3.blocks.append(
            Table(
                (
                    "时限 / deadline",
                    "时限要求 / allowed",
                    "实际用时 / used",
                    "完成时间 / met at",
                    "结论 / verdict",
                ),
                tuple(rows),
                caption="时限达成情况 / deadlines",
            )
        )
    if m.series:
        labels = [b.start.astimezone(ZoneInfo(tz)).strftime("%m-%d %H时") for b in m.series]
        font = charts.find_cjk_font(tuple(cfg.fonts))
        s3.blocks.append(
            Chart(
                "处置期间声量 / volume during the response",
                charts.volume_chart(
                    font,
                    "处置期间声量 / volume",
                    labels,
                    [b.total for b in m.series],
                    [b.negative for b in m.series],
                ),
            )
        )
    doc.sections.append(s3)

    s4 = Section("四、官方声明及效果 / Statements and their measured effect")
    if d.statements:
        s4.blocks.append(
            Table(
                (
                    "声明 / statement",
                    "类型 / kind",
                    "状态 / status",
                    "发布时间 / published",
                    "渠道 / channel",
                ),
                tuple(
                    (
                        str(s.get("title") or ""),
                        str(s.get("kind") or ""),
                        str(s.get("status") or ""),
                        local(s.get("published_at"), tz),
                        str(s.get("channel") or "—"),
                    )
                    for s in d.statements
                ),
                links=tuple(s.get("link") for s in d.statements),
            )
        )
    if m.statement_effects:
        hours = ctx.settings.incidents.statement_effect_hours
        s4.blocks.append(
            Table(
                (
                    "声明 / statement",
                    "前负面 / neg. before",
                    "后负面 / neg. after",
                    "变化 / change",
                    "负面占比 前→后 / share",
                ),
                tuple(
                    (
                        e.title,
                        str(e.negative_before),
                        str(e.negative_after),
                        f"{e.volume_change:+d}" + ("" if e.complete else "（窗口未满 / partial）"),
                        f"{_share(e.share_before)} → {_share(e.share_after)}",
                    )
                    for e in m.statement_effects
                ),
                caption=f"声明发布前后各 {hours:g} 小时的负面声量 / negative volume {hours:g} h before/after",
            )
        )
    if not d.statements:
        s4.blocks.append(Paragraph("未发布声明。/ No statements.", "note"))
    doc.sections.append(s4)

    s5 = Section("五、经验与教训 / Lessons")
    s5.blocks.append(
        Paragraph(f"做得好的方面 / what went well：{d.went_well or '（未填写 / not recorded）'}")
    )
    s5.blocks.append(Paragraph(f"不足之处 / what went badly：{d.went_badly or '（未填写 / not recorded）'}"))
    doc.sections.append(s5)

    s6 = Section("六、改进措施 / Improvement actions")
    if d.actions:
        s6.blocks.append(
            Table(
                ("措施 / action", "负责人 / owner", "完成期限 / due", "状态 / status"),
                tuple(
                    (
                        str(a["title"]),
                        str(a["owner"]),
                        local(a.get("due_at"), tz),
                        ACTION_ZH.get(a["status"], a["status"]),
                    )
                    for a in d.actions
                ),
            )
        )
    else:
        s6.blocks.append(Paragraph("未登记改进措施。/ No improvement actions recorded.", "note"))
    s6.blocks.append(
        Bullets(
            (
                "本报告的时间与数字取自应急处置时间线和监测数据，时间线经哈希链校验。",
                "Times and figures come from the hash-chained incident timeline and the monitoring data.",
            )
        )
    )
    doc.sections.append(s6)
    doc.draft = draft_wording(ctx, summary)
    return doc


def _share(v: float | None) -> str:
    return "—" if v is None else f"{v:.0%}"


def make_review_report(ctx: AppContext, incident_id: int) -> Document:
    return review_document(ctx, gather_review(ctx, incident_id))
