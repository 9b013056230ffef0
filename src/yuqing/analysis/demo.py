"""Demo step of the analysis stage: what the monitoring officer sees after the scenario was analysed."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select

from yuqing.analysis.models import AnalysisResult, TargetMatchRecord
from yuqing.analysis.risk import BANKING_TYPES
from yuqing.core.context import AppContext
from yuqing.core.contracts import STATUS_LABELS, TRIGGER_CATEGORIES
from yuqing.sources.models import Mention, Source, Target

SENT_ZH = {"negative": "负面", "neutral": "中性", "positive": "正面"}
TRIGGER_ZH = {c: f"{STATUS_LABELS[c][0]} {STATUS_LABELS[c][1].lower()}" for c in TRIGGER_CATEGORIES}


def run(ctx: AppContext, console: Console) -> None:
    console.rule("[bold]分析 / analysis")
    with ctx.db.session() as s:
        total = s.scalar(select(func.count()).select_from(AnalysisResult)) or 0
        if not total:
            console.print("尚无分析结果 / nothing analysed yet")
            return
        versions = s.scalar(select(AnalysisResult.model_versions).limit(1)) or {}
        langs = Counter(
            dict(s.execute(select(AnalysisResult.lang, func.count()).group_by(AnalysisResult.lang)).all())
        )
        console.print(
            f"已分析 {total} 条信息 / mentions analysed: {total}  语言 / languages: "
            + "、".join(f"{k} {v}" for k, v in langs.most_common())
        )
        console.print(
            "模型版本 / model versions: " + escape(", ".join(f"{k}={v}" for k, v in sorted(versions.items())))
        )

        # Per-target sentiment split (negativity about *this* target from the subject model).
        table = Table(
            title="监测主体情感分布 / sentiment per target (mentions, negative about it, neg/neu/pos)"
        )
        for col in ("主体", "信息", "针对本主体负面", "负面", "中性", "正面"):
            table.add_column(col, justify="left" if col == "主体" else "right")
        rows = s.execute(
            select(
                Target.name, Target.is_own, AnalysisResult.sentiment, TargetMatchRecord.negative, func.count()
            )
            .join(TargetMatchRecord, TargetMatchRecord.target_id == Target.id)
            .join(AnalysisResult, AnalysisResult.mention_id == TargetMatchRecord.mention_id)
            .group_by(Target.name, Target.is_own, AnalysisResult.sentiment, TargetMatchRecord.negative)
        ).all()
        per: dict[tuple[str, bool], Counter[str]] = {}
        for name, own, sent, neg, n in rows:
            c = per.setdefault((name, bool(own)), Counter())
            c[sent] += n
            c["_all"] += n
            if neg:
                c["_about"] += n
        for (name, own), c in sorted(per.items(), key=lambda kv: (not kv[0][1], kv[0][0])):
            label = f"{escape(name)}{'（本机构）' if own else '（竞品）'}"
            table.add_row(
                label,
                str(c["_all"]),
                f"{c['_about']} ({c['_about'] / c['_all']:.0%})",
                str(c["negative"]),
                str(c["neutral"]),
                str(c["positive"]),
            )
        console.print(table)

        risk_rows = s.execute(
            select(AnalysisResult.risk_type, func.count())
            .where(AnalysisResult.risk_type.is_not(None))
            .group_by(AnalysisResult.risk_type)
            .order_by(func.count().desc())
            .limit(8)
        ).all()
        trig_rows = s.execute(
            select(AnalysisResult.trigger_category, func.count())
            .where(AnalysisResult.trigger_category.is_not(None))
            .group_by(AnalysisResult.trigger_category)
            .order_by(func.count().desc())
        ).all()
        rt = Table(title="主要风险类型 / top risk types")
        rt.add_column("风险类型 risk type")
        rt.add_column("条数 mentions", justify="right")
        for risk_name, n in risk_rows:
            en = BANKING_TYPES.get(str(risk_name), "")
            rt.add_row(escape(f"{risk_name} {en}".strip()), str(n))
        console.print(rt)
        if trig_rows:
            console.print(
                "风险来源 / trigger categories: "
                + "；".join(f"{TRIGGER_ZH.get(str(k), str(k))} {n}" for k, n in trig_rows)
            )

        top = s.execute(
            select(Mention, AnalysisResult, Source.name)
            .join(AnalysisResult, AnalysisResult.mention_id == Mention.id)
            .join(Source, Source.id == Mention.source_id, isouter=True)
            .where(AnalysisResult.sentiment == "negative", Mention.duplicate_of_id.is_(None))
            .order_by(AnalysisResult.influence.desc(), Mention.id)
            .limit(5)
        ).all()
        tt = Table(title="影响力最高的负面信息 / most influential negative mentions")
        for col in ("影响力", "来源", "负面概率", "风险", "标题/内容"):
            tt.add_column(col, overflow="fold")
        for m, r, src in top:
            text = (m.title or m.text or "").replace("\n", " ")
            tt.add_row(
                f"{r.influence:.0f}",
                escape(src or m.platform),
                f"{r.negative_prob:.2f}",
                escape(r.risk_type or "-"),
                escape(text[:48] + ("…" if len(text) > 48 else "")),
            )
        console.print(tt)
