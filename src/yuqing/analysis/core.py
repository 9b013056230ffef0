"""The pure analysis of a batch of mentions: plain data in, plain data out, deterministic.

Vectorises once per batch and language; the zh text vector is shared by sentiment and risk.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from yuqing.analysis import entities as entities_mod
from yuqing.analysis import features, lang, risk, segment, sentiment, subject
from yuqing.analysis.influence import influence_score
from yuqing.analysis.linear import LinearModel
from yuqing.analysis.sentiment import SentimentModel
from yuqing.analysis.targets import CompiledTarget, TargetMatch, scan_targets

SUBJECT_MIN_NEG = 0.2  # below this text-level negativity the subject model is skipped (nothing to attribute)


@dataclass(frozen=True)
class MentionInput:
    id: int
    title: str
    text: str
    platform: str = "web"
    tier: str = "personal"
    followers: int = 0
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    views: int = 0
    duplicates: int = 0

    @property
    def full_text(self) -> str:
        t = self.title.strip()
        return self.text if not t or t in self.text else f"{t}。{self.text}" if self.text else t


@dataclass(frozen=True)
class TargetResult:
    target_id: int
    name: str
    via: str
    matched_terms: tuple[str, ...]
    negative: bool
    negative_prob: float


@dataclass(frozen=True)
class AnalysisOutput:
    mention_id: int
    lang: str
    sentiment: str
    negative_prob: float
    probs: dict[str, float]
    targets: tuple[TargetResult, ...]
    entities: tuple[dict[str, str], ...]
    risk_type: str | None
    risk_confidence: float
    risk_via: str
    trigger_category: str | None
    influence: float
    keywords: tuple[str, ...]
    tokens: tuple[str, ...]
    model_versions: dict[str, str] = field(default_factory=dict)


@dataclass
class Models:
    sentiment_zh: LinearModel | None = None
    sentiment_en: SentimentModel | None = None
    subject: LinearModel | None = None
    risk: LinearModel | None = None

    def versions(self) -> dict[str, str]:
        return {
            k: (m.version if m is not None else "lexicon-0")
            for k, m in (
                ("sentiment_zh", self.sentiment_zh),
                ("sentiment_en", self.sentiment_en),
                ("subject", self.subject),
                ("risk", self.risk),
            )
        }


def _entity_for(match: TargetMatch, text: str) -> str:
    """The name under which the target occurs in the text (longest occurring name, else a matched term)."""
    spans = sorted(match.spans, key=lambda s: s[0] - s[1])
    if spans:
        s = spans[0]
        return text.lower()[s[0] : s[1]] if text[s[0] : s[1]].isascii() else text[s[0] : s[1]]
    return match.matched_terms[0] if match.matched_terms else match.name


def analyse_batch(
    items: Sequence[MentionInput],
    targets: Sequence[CompiledTarget],
    models: Models,
    segmenter: segment.Segmenter | None = None,
) -> list[AnalysisOutput]:
    seg = segmenter or segment.default_segmenter()
    texts = [m.full_text for m in items]
    langs = [lang.detect(t) for t in texts]
    specs = [t.spec for t in targets]

    tokens_all = [seg.mention_tokens(t) for t in texts]
    # Sentiment and risk share the zh vector; risk adds the words.
    zh_rows = [i for i, lg in enumerate(langs) if lg != "en"]
    en_rows = [i for i, lg in enumerate(langs) if lg == "en"]
    sent: list[sentiment.SentimentResult | None] = [None] * len(items)
    risks: list[risk.RiskResult] = [risk.RiskResult(risk.NO_RISK, 0.0, "none")] * len(items)
    if zh_rows:
        zh_texts = [texts[i] for i in zh_rows]
        x = features.zh_vectors(zh_texts) if (models.sentiment_zh or models.risk) else None
        if models.sentiment_zh is not None and x is not None:
            zs = sentiment.predict_matrix(models.sentiment_zh, x, zh_texts, "zh")
        else:
            zs = sentiment.predict(zh_texts, ["zh"] * len(zh_rows), {})
        zr = risk.predict_matrix(
            models.risk, zh_texts, x if models.risk is not None else None, [tokens_all[i] for i in zh_rows]
        )
        for j, i in enumerate(zh_rows):
            sent[i], risks[i] = zs[j], zr[j]
    if en_rows:
        en_texts = [texts[i] for i in en_rows]
        es = sentiment.predict(en_texts, ["en"] * len(en_rows), {"en": models.sentiment_en})
        er = risk.predict_matrix(None, en_texts, None)  # rules only: the CCKS classifier is Chinese
        for j, i in enumerate(en_rows):
            sent[i], risks[i] = es[j], er[j]

    # Target matching, entities, tokens; then one batched subject-model call for all (mention, entity) pairs.
    scans = [scan_targets(t, targets) for t in texts]
    matches_all = [matches for matches, _ in scans]
    terms = entities_mod.target_terms(specs)
    ents_all = [
        entities_mod.extract_entities(t, tokens=tk, terms=terms)
        for t, tk in zip(texts, tokens_all, strict=True)
    ]
    for i, (_, gone) in enumerate(scans):
        if gone:  # names ruled out by a target's exclusion words: not entities, not words
            ents_all[i] = [e for e in ents_all[i] if e.text not in gone]
            tokens_all[i] = [t for t in tokens_all[i] if t not in gone]
    by_id = {t.spec.id: t.spec for t in targets}
    pair_jobs: list[tuple[int, list[str], list[str]]] = []  # (row, names per match, all entities)
    for i, matches in enumerate(matches_all):
        s_i = sent[i]
        assert s_i is not None
        if matches and s_i.negative_prob >= SUBJECT_MIN_NEG:
            names = [_entity_for(mt, texts[i]) for mt in matches]
            own_names = {n for mt in matches for n in by_id[mt.target_id].names}  # one name per target
            others = (e.text for e in ents_all[i] if e.kind == "ORG" and e.text not in own_names)
            pair_jobs.append((i, names, list(dict.fromkeys([*names, *others]))))
    zh_jobs = [j for j in pair_jobs if langs[j[0]] == "zh" and models.subject is not None]
    shares: dict[int, dict[str, float]] = {}
    if zh_jobs:
        pair_items = [
            (items[i].text or texts[i], items[i].title, e, ents) for i, _, ents in zh_jobs for e in ents
        ]
        starts = list(itertools.accumulate([0] + [len(ents) for _, _, ents in zh_jobs[:-1]]))
        probs = (
            subject.predict_pairs(models.subject, pair_items, starts) if models.subject is not None else []
        )
        k = 0
        for i, _, ents in zh_jobs:
            preds = [
                subject.SubjectPrediction(e, float(p), False)
                for e, p in zip(ents, probs[k : k + len(ents)], strict=True)
            ]
            k += len(ents)
            shares[i] = subject.attribution(preds)

    out = []
    for i, m in enumerate(items):
        text = texts[i]
        s = sent[i]
        assert s is not None
        tokens = tokens_all[i]
        matches = matches_all[i]
        found = ents_all[i]
        target_results: list[TargetResult] = []
        if matches and s.negative_prob >= SUBJECT_MIN_NEG:
            share_i = shares.get(i, {})
            for mt in matches:
                prob = s.negative_prob * share_i.get(_entity_for(mt, text), 1.0)
                target_results.append(
                    TargetResult(mt.target_id, mt.name, mt.via, mt.matched_terms, prob >= 0.5, round(prob, 4))
                )
        else:
            for mt in matches:
                target_results.append(
                    TargetResult(
                        mt.target_id, mt.name, mt.via, mt.matched_terms, False, round(s.negative_prob, 4)
                    )
                )
        r = risks[i]
        risk_type = None if r.risk_type == risk.NO_RISK else r.risk_type
        out.append(
            AnalysisOutput(
                mention_id=m.id,
                lang=langs[i],
                sentiment=s.label,
                negative_prob=round(s.negative_prob, 4),
                probs={k: round(v, 4) for k, v in s.probs.items()},
                targets=tuple(target_results),
                entities=tuple({"text": e.text, "kind": e.kind} for e in found),
                risk_type=risk_type,
                risk_confidence=r.confidence if risk_type else 0.0,
                risk_via=r.via,
                trigger_category=risk.trigger_category(
                    m.platform, m.tier, s.label, s.negative_prob, risk_type, text
                ),
                influence=influence_score(
                    m.tier, m.followers, m.reposts, m.comments, m.likes, m.views, m.duplicates
                ),
                keywords=tuple(segment.keywords(tokens)),
                tokens=tuple(tokens),
                model_versions=models.versions(),
            )
        )
    return out
