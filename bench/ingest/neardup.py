"""Near-duplicate recall / precision on generated edited copies vs unrelated texts.

    python -m bench.ingest.neardup [--n 2000]

For each of N originals one edited copy is made (insertions, deletions, punctuation changes,
emoji, repost prefixes "转发微博 //@某某:", or a mix); N unrelated texts in the same style are the
negatives. Originals go into the index; every copy and every unrelated text is queried. A copy
is a true positive when matched to *its* original; any other match is a false positive.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from datetime import UTC, datetime

from bench.ingest.gen import EDITS, edit, en_text, zh_text
from yuqing.sources.dedup import NearDupIndex


def evaluate(n: int, threshold: float, num_perm: int, seed: int = 7) -> dict:
    rng = random.Random(seed)
    originals = [zh_text(rng) if rng.random() < 0.8 else en_text(rng) for _ in range(n)]
    kinds = [EDITS[i % len(EDITS)] for i in range(n)]
    copies = [edit(rng, t, k) for t, k in zip(originals, kinds, strict=True)]
    unrelated = [zh_text(rng) if rng.random() < 0.8 else en_text(rng) for _ in range(n)]
    index = NearDupIndex(threshold=threshold, num_perm=num_perm, max_items=10 * n)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    for i, sig in enumerate(index.signatures(originals)):
        assert sig is not None
        index.add(sig, now, mention_id=i)
    t0 = time.perf_counter()
    tp = fp = 0
    hit_by_kind: Counter[str] = Counter()
    for i, sig in enumerate(index.signatures(copies)):
        match = index.find(sig) if sig is not None else None
        if match is None:
            continue
        if match.root_mention_id == i:
            tp += 1
            hit_by_kind[kinds[i]] += 1
        else:
            fp += 1
    for sig in index.signatures(unrelated):
        if sig is not None and index.find(sig) is not None:
            fp += 1
    per_query_us = (time.perf_counter() - t0) / (2 * n) * 1e6
    per_kind = Counter(kinds)
    return {
        "threshold": threshold,
        "num_perm": num_perm,
        "originals": n,
        "recall": round(tp / n, 4),
        "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "recall_by_edit": {k: round(hit_by_kind[k] / per_kind[k], 3) for k in EDITS},
        "us_per_query": round(per_query_us, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    for threshold in (0.5, 0.6, 0.7, 0.8):
        print(json.dumps(evaluate(args.n, threshold, 64), ensure_ascii=False))
    print(json.dumps(evaluate(args.n, 0.7, 128), ensure_ascii=False))


if __name__ == "__main__":
    main()
