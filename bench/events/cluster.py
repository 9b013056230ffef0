"""Clustering quality and throughput of the online clusterer on the Google News story sets.

    python -m bench.events.cluster [--data ../shared/data/googlenews_story_clusters] [--orders 3]

Runs the same code path as ``yuqing eval events`` (tokeniser + OnlineClusterer with the default
settings, batches of 100 refined at their end as in the service) on T (titles), S (snippets) and TS
(both), in file order and in ``--orders - 1`` shuffled orders, and prints one JSON object. The data is
converted in memory; nothing is written.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

from yuqing.events.evaluate import (
    BATCH,
    evaluate_rows,
    params_from_settings,
    read_story_set,
    vectors_from_settings,
)
from yuqing.events.settings import EventSettings

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "googlenews_story_clusters"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--orders", type=int, default=3, help="file order + (orders-1) shuffled orders")
    ap.add_argument("--no-vectors", action="store_true", help="bag of words only (no English word vectors)")
    args = ap.parse_args()
    if not (args.data / "TS.jsonl").is_file():
        sys.exit(f"dev set missing: {args.data} (expected T.jsonl, S.jsonl, TS.jsonl)")
    settings = EventSettings()
    params = params_from_settings(settings)
    vectors = None if args.no_vectors else vectors_from_settings(settings)
    out: dict[str, object] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "params": {
            "alpha": params.alpha,
            "beta": params.beta,
            "struct_weight": params.struct_weight,
            "refine_margin": params.refine_margin,
            "vectors": vectors.version if vectors else None,
            "vector_weight": params.vector_weight,
            "vector_threshold": params.vector_threshold,
            "batch": BATCH,
        },
        "results": [],
    }
    results: list[dict[str, object]] = []
    for variant in ("T", "S", "TS"):
        rows = read_story_set(args.data / f"{variant}.jsonl")
        for k in range(args.orders):
            order = "file" if k == 0 else f"shuffle{k}"
            data = list(rows)
            if k:
                random.Random(k).shuffle(data)
            cpu = time.process_time()
            r = evaluate_rows(data, params, vectors=vectors)
            cpu = time.process_time() - cpu
            r.update(variant=variant, order=order, cpu_seconds=round(cpu, 2))
            results.append(r)
            print(json.dumps(r), file=sys.stderr)
    out["results"] = results
    for key in ("nmi", "bcubed_f1", "ari", "docs_per_second"):
        for variant in ("T", "S", "TS"):
            vals = [float(r[key]) for r in results if r["variant"] == variant]  # type: ignore[arg-type]
            out[f"mean_{key}_{variant}"] = round(sum(vals) / len(vals), 4)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
