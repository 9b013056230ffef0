"""``yuqing eval events``: run labelled JSONL through the service's online clusterer and score it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from yuqing.core.clock import ensure_utc
from yuqing.errors import ValidationError
from yuqing.events.cluster import ClusterParams, Doc, OnlineClusterer
from yuqing.events.metrics import ari, bcubed, nmi
from yuqing.events.settings import EventSettings
from yuqing.events.tokens import text_tokens
from yuqing.events.vectors import TokenVectors, load_vectors


@dataclass(frozen=True)
class EvalRow:
    id: str
    text: str
    label: str
    time: datetime | None = None
    lang: str | None = None


def params_from_settings(settings: EventSettings) -> ClusterParams:
    return ClusterParams(
        alpha=settings.cluster_alpha,
        beta=settings.cluster_beta,
        struct_weight=settings.cluster_struct_weight,
        target_bonus=settings.cluster_target_bonus,
        size_cap=settings.cluster_size_cap,
        refine_margin=settings.cluster_refine_margin,
        vector_weight=settings.cluster_vector_weight,
        vector_threshold=settings.cluster_vector_threshold,
        dormant_after=timedelta(hours=settings.dormant_after_hours),
        max_active=settings.max_active_events,
        max_dormant=settings.max_dormant_events,
    )


def vectors_from_settings(settings: EventSettings) -> TokenVectors | None:
    """The word-vector table the settings ask for (None when switched off or absent)."""
    if settings.cluster_vector_weight <= 0:
        return None
    return load_vectors(settings.cluster_vectors_file)


def read_rows(path: Path) -> list[EvalRow]:
    """Parse and validate the file; one clear error names the first bad line."""
    if not path.is_file():
        raise ValidationError(f"文件不存在 / file not found: {path}")
    rows: list[EvalRow] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValidationError(
                    f"第 {lineno} 行不是合法 JSON / line {lineno}: invalid JSON ({exc.msg})"
                ) from exc
            if not isinstance(obj, dict):
                raise ValidationError(f"第 {lineno} 行不是对象 / line {lineno}: not a JSON object")
            missing = [k for k in ("id", "text", "label") if k not in obj]
            if missing:
                raise ValidationError(
                    f"第 {lineno} 行缺少字段 / line {lineno}: missing field(s) {', '.join(missing)}"
                )
            if not isinstance(obj["text"], str):
                raise ValidationError(f"第 {lineno} 行 text 不是字符串 / line {lineno}: text is not a string")
            when = None
            if obj.get("time") is not None:
                try:
                    when = ensure_utc(datetime.fromisoformat(str(obj["time"]).replace("Z", "+00:00")))
                except ValueError as exc:
                    raise ValidationError(
                        f"第 {lineno} 行时间无效 / line {lineno}: invalid time {obj['time']!r}"
                    ) from exc
            rows.append(EvalRow(str(obj["id"]), obj["text"], str(obj["label"]), when, obj.get("lang")))
    if not rows:
        raise ValidationError(f"文件为空 / no rows in {path}")
    return rows


def read_story_set(path: Path) -> list[EvalRow]:
    """A Google News story set (``{"text", "cluster"}`` per line) as evaluation rows, ids = line numbers."""
    with path.open(encoding="utf-8") as fh:
        return [
            EvalRow(str(i), (obj := json.loads(line))["text"], str(obj["cluster"]))
            for i, line in enumerate(fh)
        ]


BATCH = 100  # documents per batch, as the service's stage receives them (refined at the end of each)


def evaluate_rows(
    rows: list[EvalRow], params: ClusterParams, batch: int = BATCH, vectors: TokenVectors | None = None
) -> dict[str, Any]:
    """Cluster the rows in file order, in batches of ``batch`` refined at their end as the service
    does (timed: tokenising + clustering), and compute the metrics."""
    clusterer = OnlineClusterer(params, vectors)
    cpu = time.process_time()
    start = time.perf_counter()
    pred = clusterer.run((Doc(i, text_tokens(row.text), row.time) for i, row in enumerate(rows)), batch)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    gold = [r.label for r in rows]
    p, r, f = bcubed(gold, pred)
    return {
        "n": len(rows),
        "clusters_found": len(set(pred)),
        "nmi": round(nmi(gold, pred), 4),
        "ari": round(ari(gold, pred), 4),
        "bcubed_precision": round(p, 4),
        "bcubed_recall": round(r, 4),
        "bcubed_f1": round(f, 4),
        "docs_per_second": round(len(rows) / elapsed, 1) if elapsed > 0 else None,
        # CPU time of this process: the figure that does not depend on other load on the machine
        "cpu_docs_per_second": round(len(rows) / cpu, 1) if cpu > 0 else None,
    }


def evaluate_file(path: Path, settings: EventSettings) -> dict[str, Any]:
    return evaluate_rows(
        read_rows(path), params_from_settings(settings), vectors=vectors_from_settings(settings)
    )
