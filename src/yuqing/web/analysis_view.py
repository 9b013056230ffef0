"""What the console reads from the analysis stage (sentiment, targets per mention).

Kept in one place so the console follows the analysis stage's storage
(``analysis_results``, ``analysis_target_hits``); mentions not analysed yet have no sentiment.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.analysis.models import AnalysisResult, TargetMatchRecord
from yuqing.sources.models import Mention


def filter_mentions(stmt: Any, *, target_id: int | None, sentiment: str | None) -> Any:
    if sentiment is not None:
        stmt = stmt.where(
            Mention.id.in_(select(AnalysisResult.mention_id).where(AnalysisResult.sentiment == sentiment))
        )
    if target_id is not None:
        stmt = stmt.where(
            Mention.id.in_(
                select(TargetMatchRecord.mention_id).where(TargetMatchRecord.target_id == target_id)
            )
        )
    return stmt


def mention_analysis(s: Session, mention_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not mention_ids:
        return {}
    out: dict[int, dict[str, Any]] = {}
    for mid, sentiment, prob in s.execute(
        select(AnalysisResult.mention_id, AnalysisResult.sentiment, AnalysisResult.negative_prob).where(
            AnalysisResult.mention_id.in_(mention_ids)
        )
    ):
        out.setdefault(mid, {}).update(sentiment=sentiment, negative_prob=prob)
    for mid, tid in s.execute(
        select(TargetMatchRecord.mention_id, TargetMatchRecord.target_id).where(
            TargetMatchRecord.mention_id.in_(mention_ids)
        )
    ):
        out.setdefault(mid, {}).setdefault("target_ids", []).append(tid)
    return out
