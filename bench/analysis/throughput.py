"""Per-step throughput of the analysis stage on ~200-character texts, one process (= one core).

    OMP_NUM_THREADS=1 python -m bench.analysis.throughput [--n 4000]

Texts: finnsp / weibo / finfe rows from ../shared/data cut or joined to 180-220 characters (a
synthetic generator when the data is missing). 20 watch targets with rules. English sentiment is
measured apart on English texts of the same length (n-gram model, transformer, default cascade).
Steps that remember tokens are warmed up on other texts. ``machine_reference_per_cpu_second``
(before and after the steps) says how fast the machine ran: compare runs relative to it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from yuqing.analysis import entities, features, lang, registry, risk, segment, sentiment, subject
from yuqing.analysis.core import MentionInput, Models, analyse_batch
from yuqing.analysis.influence import influence_score
from yuqing.analysis.targets import CompiledTarget, TargetSpec, compile_target, extra_words, match_targets

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
BANKS = [
    "华信",
    "东岳",
    "招商",
    "工商",
    "建设",
    "农业",
    "交通",
    "平安",
    "兴业",
    "浦发",
    "民生",
    "光大",
    "中信",
    "华夏",
    "广发",
    "浙商",
    "渤海",
    "恒丰",
    "北京",
    "上海",
]


def texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    pool: list[str] = []
    if (DATA / "finnsp").is_dir():
        from yuqing.analysis import datasets

        pool += [r.text for r in datasets.finnsp(DATA)]
        pool += [r.text for r in datasets.sentiment_zh(DATA) if r.source in ("weibo_senti_100k", "finfe")]
    else:
        pool = [
            "华信银行信用卡乱收费，客户投诉年费和手续费不合理，要求退还。" * 3,
            "今天去东岳银行办业务，服务很好。" * 5,
        ]
    out = []
    while len(out) < n:
        t = rng.choice(pool)
        while len(t) < 180:
            t += "。" + rng.choice(pool)
        t = t[: rng.randint(180, 220)]
        if rng.random() < 0.5:  # half of them mention a watch target
            i = rng.randint(0, len(t) - 1)
            t = t[:i] + rng.choice(BANKS) + "银行" + t[i:]
        out.append(t[:220])
    return out


def english_texts(n: int) -> list[str]:
    """~200-character English finance texts: finance tweets and news sentences joined and cut."""
    rng = random.Random(11)
    if (DATA / "twitter_financial_news").is_dir():
        from yuqing.analysis import datasets

        pool = [r.text for r in datasets.sentiment_en(DATA)]
    else:
        pool = ["Bank shares fall after the regulator fines the lender for mis-selling.", "Profit rises 12%."]
    out = []
    while len(out) < n:
        t = rng.choice(pool)
        while len(t) < 180:
            t += " " + rng.choice(pool)
        out.append(t[: rng.randint(180, 220)])
    return out


def reference_speed() -> float:
    """A fixed pure-Python workload (counting 200,000 short strings in a dict) per CPU-second: how
    fast this machine ran at that moment. Shared or throttled machines drift (twice as slow from one
    run to the next was seen here), so compare step figures across runs relative to this one."""
    words = [f"w{i % 5000}" for i in range(200_000)]
    best = float("inf")
    for _ in range(5):
        c0 = time.process_time()
        counts: dict[str, int] = {}
        for w in words:
            counts[w] = counts.get(w, 0) + 1
        best = min(best, time.process_time() - c0)
    return round(len(words) / best)


def bench(
    name: str, fn: Callable[[], Any], n: int, results: dict[str, Any], warm: Callable[[], Any] | None = None
) -> None:
    (warm or fn)()  # warm-up (model loading, caches); other texts where caches would remember these
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    # Per core = per CPU-second of this single-threaded process (robust when the machine is shared).
    results[name] = {
        "per_cpu_second": round(n / cpu),
        "us_cpu_per_mention": round(cpu / n * 1e6, 1),
        "per_wall_second": round(n / wall),
    }


def stage_setup() -> tuple[list[TargetSpec], list[CompiledTarget], segment.Segmenter, Models]:
    """The bench's 20 watch targets (compiled), a segmenter that knows their names, the shipped models."""
    specs = [
        TargetSpec(i + 1, f"{b}银行", (b, f"{b}行"), rule=f"({b}银行 OR {b}行) NOT 招聘", exclude=("招聘会",))
        for i, b in enumerate(BANKS)
    ]
    models = Models(
        registry.get_model("sentiment_zh"),
        registry.sentiment_en(),
        registry.get_model("subject"),
        registry.get_model("risk"),
    )
    return specs, [compile_target(s) for s in specs], segment.Segmenter(extra_words(specs)), models


def mention_inputs(xs: list[str]) -> list[MentionInput]:
    """The texts as Weibo mentions of a personal account with fixed engagement counts."""
    return [MentionInput(i, "", t, "weibo", "personal", 1000, 3, 2, 10) for i, t in enumerate(xs)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=500)
    args = ap.parse_args()
    xs = texts(args.n)
    specs, compiled, seg, models = stage_setup()
    r: dict[str, Any] = {
        "n": args.n,
        "mean_chars": round(sum(map(len, xs)) / len(xs), 1),
        "targets": len(specs),
    }
    r["machine_reference_per_cpu_second"] = [reference_speed()]
    r["steps"] = steps = {}
    other = texts(500, seed=8)  # warm-up texts for the steps that remember tokens
    bench("language", lambda: [lang.detect(t) for t in xs], args.n, steps)
    bench(
        "segmentation", lambda: [seg.cut(t) for t in xs], args.n, steps, lambda: [seg.cut(t) for t in other]
    )
    bench("target_matching", lambda: [match_targets(t, compiled) for t in xs], args.n, steps)
    toks = [seg.mention_tokens(t) for t in xs]  # as the stage keeps them
    terms = entities.target_terms(specs)  # once per batch in the stage
    bench(
        "entities (given tokens)",
        lambda: [
            entities.extract_entities(t, tokens=tk, terms=terms) for t, tk in zip(xs, toks, strict=True)
        ],
        args.n,
        steps,
    )

    def _sent() -> None:
        for i in range(0, len(xs), args.batch):
            b = xs[i : i + args.batch]
            assert models.sentiment_zh is not None
            sentiment.predict_matrix(models.sentiment_zh, features.zh_vectors(b), b, "zh")

    bench("sentiment (vectorise + predict)", _sent, args.n, steps)

    def _risk() -> None:  # given the tokens, as in the stage (segmentation is its own step)
        for i in range(0, len(xs), args.batch):
            b = xs[i : i + args.batch]
            risk.predict_matrix(models.risk, b, features.zh_vectors(b), toks[i : i + args.batch])

    bench("risk (vectorise + predict + rules)", _risk, args.n, steps)
    # English sentiment: the n-gram model, the shipped transformer on every text, and the default
    # cascade (the transformer only where the n-gram model is unsure).
    en = english_texts(min(args.n, 1000))
    en_models = {
        "n-gram": registry.sentiment_en(transformer="off"),
        "transformer": registry.sentiment_en(transformer="all"),
        "cascade (default)": registry.sentiment_en(),
    }
    for label, m in en_models.items():
        name = f"sentiment en, {label} ({m.version if m is not None else 'lexicon'})"
        bench(name, lambda m=m: sentiment.predict(en, ["en"] * len(en), {"en": m}), len(en), steps)
    pairs = [(t, m) for t in xs if (m := match_targets(t, compiled))]
    sub_n = len(pairs)
    bench(
        "subject (per mention with a target)",
        lambda: [subject.predict(models.subject, t, [m[0].name]) for t, m in pairs],
        max(sub_n, 1),
        steps,
    )
    bench(
        "influence", lambda: [influence_score("self_media", 1000, 3, 2, 10, 500) for _ in xs], args.n, steps
    )
    items = mention_inputs(xs)
    stage_seg = segment.Segmenter(extra_words(specs))  # has not seen these texts

    def _stage() -> None:
        for i in range(0, len(items), args.batch):
            analyse_batch(items[i : i + args.batch], compiled, models, stage_seg)

    warm_items = mention_inputs(other)
    bench(
        "whole stage (pure core, batches of 500)",
        _stage,
        args.n,
        steps,
        lambda: analyse_batch(warm_items, compiled, models, stage_seg),
    )
    r["whole_stage_target_per_core"] = 2000
    r["whole_stage_met"] = steps["whole stage (pure core, batches of 500)"]["per_cpu_second"] >= 2000
    r["machine_reference_per_cpu_second"].append(reference_speed())
    r["load_average"] = os.getloadavg()
    print(json.dumps(r, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
