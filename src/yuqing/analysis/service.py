"""The analysis service: loads mentions, runs the pure core, stores results, publishes.

``load_analysed`` is the contract other stages read (``yuqing.core.contracts.AnalysedMention``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from yuqing.analysis import registry
from yuqing.analysis.core import AnalysisOutput, MentionInput, Models, analyse_batch
from yuqing.analysis.models import AnalysisLabel, AnalysisResult, TargetMatchRecord
from yuqing.analysis.risk import RISK_TYPES
from yuqing.analysis.segment import segmenter_for
from yuqing.analysis.sentiment import LABELS as SENTIMENTS
from yuqing.analysis.targets import CompiledTarget, TargetSpec, compile_target, extra_words
from yuqing.core.bus import MENTIONS_ANALYSED
from yuqing.core.context import AppContext
from yuqing.core.contracts import AnalysedMention, TargetHit
from yuqing.errors import NotFound, ValidationError
from yuqing.sources.models import Mention, Quarantine, Source, Target

log = logging.getLogger(__name__)
LABEL_KINDS = ("sentiment", "subject", "risk", "not_about_target")
BATCH = 500

_compiled_cache: dict[TargetSpec, CompiledTarget] = {}
_cache_lock = threading.Lock()


# --- targets ----------------------------------------------------------------------------------------


def spec_of(t: Target) -> TargetSpec:
    return TargetSpec(
        id=t.id,
        name=t.name,
        aliases=tuple(t.aliases or ()),
        executives=tuple(t.executives or ()),
        products=tuple(t.products or ()),
        rule=t.rule,
        exclude=tuple(t.exclude or ()),
        is_own=bool(t.is_own),
    )


def compiled(spec: TargetSpec) -> CompiledTarget | None:
    """Compiled target (cached per content); None (logged) if its stored rule no longer parses."""
    with _cache_lock:
        hit = _compiled_cache.get(spec)
    if hit is not None:
        return hit
    try:
        c = compile_target(spec)
    except ValidationError as exc:
        log.warning("target %s has a malformed rule, skipped: %s", spec.id, exc.message)
        return None
    with _cache_lock:
        if len(_compiled_cache) > 10_000:
            _compiled_cache.clear()
        _compiled_cache[spec] = c
    return c


def load_targets(session: Session, target_id: int | None = None) -> list[CompiledTarget]:
    q = select(Target).where(Target.enabled.is_(True)).order_by(Target.id)
    if target_id is not None:
        q = q.where(Target.id == target_id)
    return [c for t in session.scalars(q) if (c := compiled(spec_of(t))) is not None]


def get_models(ctx: AppContext) -> Models:
    a = ctx.settings.analysis
    d = a.model_dir
    return Models(
        sentiment_zh=registry.get_model("sentiment_zh", d),
        sentiment_en=registry.sentiment_en(d, a.english_transformer, a.english_transformer_below),
        subject=registry.get_model("subject", d),
        risk=registry.get_model("risk", d),
    )


# --- analysis ---------------------------------------------------------------------------------------


def _input(m: Mention, s: Source | None) -> MentionInput:
    return MentionInput(
        id=m.id,
        title=m.title or "",
        text=m.text or "",
        platform=m.platform or (s.platform if s else "web"),
        tier=s.tier if s else "personal",
        followers=m.author_followers or 0,
        reposts=m.reposts or 0,
        comments=m.comments or 0,
        likes=m.likes or 0,
        views=m.views or 0,
        duplicates=m.dup_count or 0,
    )


def analyse_mentions(ctx: AppContext, mention_ids: Sequence[int], *, publish: bool = True) -> list[int]:
    """Analyse (or re-analyse) mentions by id; returns the ids stored. One query per batch; a
    mention that fails goes to quarantine (stage ``analyse``) without blocking the others."""
    ids = list(dict.fromkeys(int(i) for i in mention_ids))
    done: list[int] = []
    models = get_models(ctx)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        with ctx.db.session() as session:
            rows = session.execute(
                select(Mention, Source)
                .join(Source, Source.id == Mention.source_id, isouter=True)
                .where(Mention.id.in_(chunk))
            ).all()
            targets = load_targets(session)
            seg = segmenter_for(extra_words([t.spec for t in targets]))
            inputs = [_input(m, s) for m, s in rows]
            try:
                outputs = analyse_batch(inputs, targets, models, seg)
            except Exception:  # isolate the failing mention(s)
                outputs = []
                for (m, _s), item in zip(rows, inputs, strict=True):
                    try:
                        outputs.extend(analyse_batch([item], targets, models, seg))
                    except Exception as exc:
                        log.exception("analysis failed for mention %s", m.id)
                        session.add(
                            Quarantine(
                                source_id=m.source_id,
                                raw_item_id=m.raw_item_id,
                                stage="analyse",
                                reason="analysis_failed",
                                error=f"{type(exc).__name__}: {exc}"[:2000],
                                payload={"mention_id": m.id},
                                created_at=ctx.clock.now(),
                            )
                        )
            _store(session, outputs, ctx.clock.now())
            done.extend(o.mention_id for o in outputs)
    if publish and done:
        ctx.bus.publish(MENTIONS_ANALYSED, [{"mention_id": i} for i in done])
    return done


def _store(session: Session, outputs: Sequence[AnalysisOutput], now: datetime) -> None:
    """Upsert: the batch's previous results are replaced (idempotent under redelivery)."""
    if not outputs:
        return
    ids = [o.mention_id for o in outputs]
    labels = _labels_for(session, ids)
    session.execute(delete(TargetMatchRecord).where(TargetMatchRecord.mention_id.in_(ids)))
    session.execute(delete(AnalysisResult).where(AnalysisResult.mention_id.in_(ids)))
    session.flush()
    for o in outputs:
        sentiment, neg_prob, risk_type = o.sentiment, o.negative_prob, o.risk_type
        risk_conf = o.risk_confidence
        lab = labels.get(o.mention_id, _Labels())
        if lab.sentiment is not None:
            sentiment = lab.sentiment.value
            neg_prob = 1.0 if sentiment == "negative" else min(neg_prob, 0.1)
        if lab.risk is not None:
            risk_type = lab.risk.value if lab.risk.value != "其他" else None
            risk_conf = 1.0
        not_about = {lb.target_id for lb in lab.not_about}
        subject_neg = {lb.target_id: lb.value == "negative" for lb in lab.subject}
        session.add(
            AnalysisResult(
                mention_id=o.mention_id,
                lang=o.lang,
                sentiment=sentiment,
                negative_prob=neg_prob,
                probs=o.probs,
                trigger_category=o.trigger_category,
                risk_type=risk_type,
                risk_confidence=risk_conf,
                risk_via="label" if lab.risk is not None else o.risk_via,
                influence=o.influence,
                entities=list(o.entities),
                keywords=list(o.keywords),
                tokens=list(o.tokens),
                model_versions=o.model_versions,
                analysed_at=now,
            )
        )
        for t in o.targets:
            if t.target_id in not_about:
                continue
            neg = subject_neg.get(t.target_id, t.negative)
            session.add(
                TargetMatchRecord(
                    mention_id=o.mention_id,
                    target_id=t.target_id,
                    via=t.via,
                    matched_terms=list(t.matched_terms),
                    negative=neg,
                    negative_prob=(1.0 if neg else min(t.negative_prob, 0.1))
                    if t.target_id in subject_neg
                    else t.negative_prob,
                )
            )


@dataclass
class _Labels:
    sentiment: AnalysisLabel | None = None
    risk: AnalysisLabel | None = None
    not_about: list[AnalysisLabel] = field(default_factory=list)
    subject: list[AnalysisLabel] = field(default_factory=list)


def _labels_for(session: Session, ids: Sequence[int]) -> dict[int, _Labels]:
    """Analysts' corrections of the batch (the latest sentiment/risk label wins)."""
    out: dict[int, _Labels] = {}
    q = select(AnalysisLabel).where(AnalysisLabel.mention_id.in_(ids)).order_by(AnalysisLabel.id)
    for lb in session.scalars(q):
        d = out.setdefault(lb.mention_id, _Labels())
        if lb.kind == "sentiment":
            d.sentiment = lb
        elif lb.kind == "risk":
            d.risk = lb
        elif lb.kind == "not_about_target":
            d.not_about.append(lb)
        else:
            d.subject.append(lb)
    return out


def iter_mention_ids(
    session: Session, since: datetime | None = None, target_id: int | None = None, chunk: int = BATCH
) -> Iterator[list[int]]:
    """Mention ids to re-analyse, by ingest time; restricted to those previously matched to a target."""
    q = select(Mention.id).order_by(Mention.id)
    if since is not None:
        q = q.where(Mention.ingested_at >= since)
    if target_id is not None:
        q = q.where(
            Mention.id.in_(
                select(TargetMatchRecord.mention_id).where(TargetMatchRecord.target_id == target_id)
            )
        )
    batch: list[int] = []
    for mid in session.scalars(q):
        batch.append(mid)
        if len(batch) >= chunk:
            yield batch
            batch = []
    if batch:
        yield batch


def reanalyse(ctx: AppContext, since: datetime | None = None, target_id: int | None = None) -> int:
    """Re-run the analysis with the current models; returns the number of mentions analysed."""
    with ctx.db.session() as session:
        chunks = list(iter_mention_ids(session, since, target_id))
    n = 0
    for ids in chunks:
        n += len(analyse_mentions(ctx, ids))
    return n


# --- the contract other stages read -------------------------------------------------------------------


def load_analysed(session: Session, mention_ids: list[int]) -> list[AnalysedMention]:
    """Analysed mentions in the order of ``mention_ids`` (ids not analysed yet are left out)."""
    if not mention_ids:
        return []
    rows = session.execute(
        select(Mention, AnalysisResult, Source)
        .join(AnalysisResult, AnalysisResult.mention_id == Mention.id)
        .join(Source, Source.id == Mention.source_id, isouter=True)
        .where(Mention.id.in_(mention_ids))
    ).all()
    hits: dict[int, list[TargetHit]] = {}
    hq = (
        select(TargetMatchRecord, Target.name)
        .join(Target, Target.id == TargetMatchRecord.target_id)
        .where(TargetMatchRecord.mention_id.in_(mention_ids))
        .order_by(TargetMatchRecord.mention_id, TargetMatchRecord.target_id)
    )
    for h, name in session.execute(hq):
        hits.setdefault(h.mention_id, []).append(
            TargetHit(h.target_id, name, bool(h.negative), float(h.negative_prob))
        )
    by_id = {}
    for m, r, s in rows:
        by_id[m.id] = AnalysedMention(
            mention_id=m.id,
            source_id=m.source_id,
            platform=m.platform,
            source_tier=s.tier if s is not None else "personal",
            url=m.url,
            title=m.title or "",
            text=m.text or "",
            author=m.author,
            author_followers=m.author_followers or 0,
            published_at=m.published_at,
            lang=r.lang,
            duplicate_of_id=m.duplicate_of_id,
            sentiment=r.sentiment,
            negative_prob=float(r.negative_prob),
            targets=tuple(hits.get(m.id, ())),
            entities=tuple(e["text"] for e in (r.entities or [])),
            trigger_category=r.trigger_category,
            risk_type=r.risk_type,
            risk_confidence=float(r.risk_confidence or 0.0),
            influence=float(r.influence or 0.0),
            keywords=tuple(r.keywords or ()),
            tokens=tuple(r.tokens or ()),
        )
    return [by_id[i] for i in mention_ids if i in by_id]


# --- analysts' corrections ------------------------------------------------------------------------------


def record_label(
    ctx: AppContext, mention_id: int, kind: str, value: str, by: str, *, target_id: int | None = None
) -> int:
    """Store an analyst's correction, apply it to the stored result, and republish the mention.

    kind ``sentiment``: value negative|neutral|positive. ``risk``: a risk type's Chinese name.
    ``subject``: value negative|not_negative for ``target_id`` (is the negativity about it).
    ``not_about_target``: the mention is not about ``target_id`` (value: the target id or name).
    """
    if kind not in LABEL_KINDS:
        raise ValidationError(
            f"未知的标注类型 / unknown label kind {kind!r}; expected one of {', '.join(LABEL_KINDS)}"
        )
    if kind == "sentiment" and value not in SENTIMENTS:
        raise ValidationError(
            f"情感标注须为 / sentiment label must be one of {', '.join(SENTIMENTS)}: {value!r}"
        )
    if kind == "risk" and value not in RISK_TYPES:
        raise ValidationError(f"未知的风险类型 / unknown risk type {value!r}")
    if kind == "subject" and value not in ("negative", "not_negative"):
        raise ValidationError(
            "主体标注须为 negative 或 not_negative / subject label must be negative|not_negative"
        )
    with ctx.db.session() as session:
        if session.get(Mention, mention_id) is None:
            raise NotFound(f"信息不存在 / mention {mention_id} not found")
        if kind in ("subject", "not_about_target"):
            if target_id is None:
                target = session.scalar(select(Target).where(Target.name == value))
                if target is None and value.isdigit():
                    target = session.get(Target, int(value))
                if target is None:
                    raise ValidationError(
                        f"需指定监测主体 / label needs a target (target_id or name): {value!r}"
                    )
                target_id = target.id
            elif session.get(Target, target_id) is None:
                raise NotFound(f"监测主体不存在 / target {target_id} not found")
        label = AnalysisLabel(
            mention_id=mention_id,
            kind=kind,
            value=value,
            target_id=target_id,
            by=by,
            created_at=ctx.clock.now(),
        )
        session.add(label)
        session.flush()
        label_id = label.id
    analyse_mentions(ctx, [mention_id])
    return label_id


def labels(session: Session, kind: str | None = None) -> list[AnalysisLabel]:
    q = select(AnalysisLabel).order_by(AnalysisLabel.id)
    if kind:
        q = q.where(AnalysisLabel.kind == kind)
    return list(session.scalars(q))
