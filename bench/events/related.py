"""How often the "possibly related events" suggestion points at the same story (Google News).

    python -m bench.events.related [--data ../shared/data/googlenews_story_clusters]

Each set is clustered as `yuqing eval events` does (one shuffled order); for every cluster of at
least 5 documents the best related cluster (``yuqing.events.related``) is taken at several score
thresholds, and counted right when both clusters' majority gold story is the same. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

from yuqing.events.cluster import Doc, OnlineClusterer
from yuqing.events.evaluate import params_from_settings, read_story_set, vectors_from_settings
from yuqing.events.related import related
from yuqing.events.settings import EventSettings
from yuqing.events.tokens import text_tokens

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "googlenews_story_clusters"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()
    if not (args.data / "T.jsonl").is_file():
        sys.exit(f"dev set missing: {args.data} (expected T.jsonl, S.jsonl, TS.jsonl)")
    settings = EventSettings()
    out: dict[str, object] = {}
    for variant in ("T", "S", "TS"):
        rows = read_story_set(args.data / f"{variant}.jsonl")
        random.Random(1).shuffle(rows)
        clusterer = OnlineClusterer(params_from_settings(settings), vectors_from_settings(settings))
        pred = clusterer.run([Doc(i, text_tokens(r.text)) for i, r in enumerate(rows)])
        stories: defaultdict[int, Counter[str]] = defaultdict(Counter)
        for r, p in zip(rows, pred, strict=True):
            stories[p][r.label] += 1
        major = {p: c.most_common(1)[0][0] for p, c in stories.items()}
        big = [p for p, c in stories.items() if sum(c.values()) >= 5 and p in clusterer.active]
        counts = {p: dict(clusterer.active[p].counts) for p in big}
        split = sum(1 for p in big if any(major[q] == major[p] for q in big if q != p))
        res = []
        for threshold in (0.1, 0.15, 0.2, 0.3):
            shown = right = 0
            for p in big:
                top = related(counts[p], {q: counts[q] for q in big if q != p}, limit=1, min_score=threshold)
                if top:
                    shown += 1
                    right += major[top[0].event_id] == major[p]
            res.append(
                {
                    "min_score": threshold,
                    "with_suggestion": shown,
                    "precision_at_1": round(right / shown, 3) if shown else None,
                    "recall_of_split_clusters": round(right / split, 3) if split else None,
                }
            )
        out[variant] = {
            "clusters_of_5_or_more": len(big),
            "with_a_same_story_partner": split,
            "thresholds": res,
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
