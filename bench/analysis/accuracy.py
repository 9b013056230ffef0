"""Every accuracy figure of the analysis models, with the data it used.

    OMP_NUM_THREADS=1 python -m bench.analysis.accuracy [--quick]

1. Held-out splits: the exact 15 % rows the shipped sentiment/risk models did NOT see (same seed
   and stratification / grouping as ``yuqing train``) are written as JSONL into a temp dir and scored with
   the ``yuqing eval`` code path — per source dataset.
2. Cross-dataset: models trained by the same recipe on some sets and scored on another
   (weibo <-> chnsenticorp, leave-one-dataset-out for finfe / finnsp / twitter / phrasebank).
3. Subject: 5-fold cross-validation grouped by text on finnsp (BDCI 2019 score); risk types: the same
   recipe in 5 folds grouped by text (every CCKS type scored on all its texts).
The data never leaves the temp dir. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

from yuqing.analysis import datasets, features, risk, train
from yuqing.analysis.evaluate import evaluate

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
TWO_CLASS = {"weibo_senti_100k", "chnsenticorp", "chnsenticorp_htl"}


def write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def sentiment_rows(recs: Sequence[datasets.Labelled]) -> list[dict[str, Any]]:
    out = []
    for r in recs:
        label = r.label
        if r.source in TWO_CLASS or r.source == "finnsp":
            label = "negative" if r.label == "negative" else "non_negative"
        out.append({"text": r.text, "label": label})
    return out


def held_out(recs: Sequence[datasets.Labelled]) -> list[datasets.Labelled]:
    _, ho = train.sentiment_split(np.array([r.source for r in recs]), np.array([r.label for r in recs]))
    return [recs[i] for i in ho]


def risk_cv(recs: Sequence[datasets.Labelled]) -> dict[str, Any]:
    """The shipped risk recipe (with the rule layer) in 5 folds grouped by text, scored once per text:
    every type gets all its texts scored, where the 15 % held-out split has 0-8 texts of the rare
    ones, so its macro-F1 is mostly noise."""
    texts = [r.text for r in recs]
    y = np.array([r.label for r in recs])
    groups = train.text_groups(texts)
    x = risk.design(features.zh_vectors(texts), texts)  # the shipped recipe's input
    gold: list[str] = []
    pred: list[str] = []
    for tr, te in GroupKFold(n_splits=5).split(x, y, groups):
        clf = train.risk_classifier().fit(x[tr], y[tr])
        model = train._to_linear(clf, "risk_zh", "cv", 1.0, {})
        te_texts = [texts[i] for i in te]
        p = [r.risk_type for r in risk.predict_matrix(model, te_texts, x[te])]
        g, q = train.text_level(te_texts, list(y[te]), p)
        gold += g
        pred += q
    labels = sorted(set(gold))
    per_type = f1_score(gold, pred, labels=labels, average=None, zero_division=0)
    return {
        "texts": len(gold),
        "accuracy": round(float(np.mean(np.array(gold) == np.array(pred))), 4),
        "macro_f1": round(float(np.mean(per_type)), 4),
        "f1_by_type": {t: round(float(f), 3) for t, f in zip(labels, per_type, strict=True)},
    }


def short(m: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "n",
        "accuracy",
        "macro_f1",
        "negative_precision",
        "negative_recall",
        "negative_f1",
        "texts_per_second",
    )
    return {k: m[k] for k in keys if k in m}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip the cross-dataset retraining")
    args = ap.parse_args()
    if not DATA.is_dir():
        print(json.dumps({"skipped": f"shared data not found at {DATA}"}))
        return
    out: dict[str, Any] = {"data": str(DATA)}
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        # 1. held-out rows of the shipped models, scored through `yuqing eval`
        ho: dict[str, Any] = {}
        for lang in ("zh", "en"):
            recs = list(datasets.sentiment_zh(DATA) if lang == "zh" else datasets.sentiment_en(DATA))
            rows = held_out(recs)
            for src in sorted({r.source for r in rows}):
                sub = [r for r in rows if r.source == src]
                p = write_jsonl(tmp / f"ho_{src}.jsonl", sentiment_rows(sub))
                ho[f"sentiment/{src}"] = short(evaluate("sentiment", p))
                if src in train.LABEL_EMOTICONS:  # labels from these emoticons: the words alone
                    stripped = [(train.without_label_emoticons(r), r) for r in sub]
                    bare = [datasets.Labelled(t, r.label, r.source) for t, r in stripped if t]  # some text
                    p = write_jsonl(tmp / f"ho_{src}_bare.jsonl", sentiment_rows(bare))
                    ho[f"sentiment/{src} (emoticons removed)"] = short(evaluate("sentiment", p))
        # risk: the held-out texts of `yuqing train risk` (grouped by text). Per row against its own
        # type, and once per distinct text with every type it carries as the label list.
        risk_recs = list(datasets.risk_ccks(DATA))
        _, ho_idx = train.risk_split([r.text for r in risk_recs])
        rows = [risk_recs[i] for i in ho_idx]
        p = write_jsonl(tmp / "ho_risk.jsonl", [{"text": r.text, "label": r.label} for r in rows])
        ho["risk/ccks2019_fin_event"] = short(evaluate("risk", p))
        types: dict[str, list[str]] = {}
        for r in rows:
            types.setdefault(r.text, [])
            if r.label not in types[r.text]:
                types[r.text].append(r.label)
        p = write_jsonl(tmp / "ho_risk_text.jsonl", [{"text": t, "label": g} for t, g in types.items()])
        ho["risk/ccks2019_fin_event, one row per text"] = short(evaluate("risk", p))
        out["held_out_shipped_models"] = ho
        out["risk_cv5_grouped_by_text"] = risk_cv(risk_recs)

        # 3. subject: grouped CV (retrains into the temp dir; the shipped model is untouched)
        res = train.train_subject(DATA, tmp / "subject")
        sm = res.metrics["subject"]
        out["subject_cv5_grouped_finnsp"] = sm["cv5_grouped_by_text"] | {"threshold": sm["threshold"]}
        out["subject_cv5_grouped_finnsp_at_0.5"] = sm["cv5_grouped_by_text_at_0.5"]
        out["subject_cv5_unseen_entities"] = sm["cv5_unseen_entities"]

        if not args.quick:
            # 2. cross-dataset: same recipe, trained on some sets, scored on others
            zh = list(datasets.sentiment_zh(DATA))
            en = list(datasets.sentiment_en(DATA))
            cross: dict[str, Any] = {}
            plans = [
                ("zh", ["weibo_senti_100k"], "chnsenticorp"),
                ("zh", ["chnsenticorp", "chnsenticorp_htl"], "weibo_senti_100k"),
                ("zh", ["weibo_senti_100k", "chnsenticorp", "chnsenticorp_htl", "finnsp"], "finfe"),
                ("zh", ["weibo_senti_100k", "chnsenticorp", "chnsenticorp_htl", "finfe"], "finnsp"),
                ("en", ["financial_phrasebank", "fiqa2018", "semeval2017"], "twitter_fin"),
                ("en", ["twitter_fin", "fiqa2018", "semeval2017"], "financial_phrasebank"),
            ]
            for lang, train_sets, test_set in plans:
                pool = zh if lang == "zh" else en
                extra = [  # training_text: the shipped recipe (label-defining emoticons mostly removed)
                    datasets.Labelled(train.training_text(r), r.label, f"file_{lang}")
                    for r in pool
                    if r.source in train_sets
                ]
                mdir = tmp / f"x_{test_set}"
                train.train_sentiment(None, mdir, extra, langs=(lang,))
                test = [r for r in pool if r.source == test_set]
                p = write_jsonl(tmp / f"x_{test_set}.jsonl", sentiment_rows(test))
                # the n-gram recipe alone (the shipped transformer saw these test sets)
                result = evaluate("sentiment", p, str(mdir), english_transformer="off")
                cross[f"{'+'.join(train_sets)} -> {test_set}"] = short(result)
            out["cross_dataset_sentiment"] = cross
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
