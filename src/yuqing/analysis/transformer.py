"""A small fine-tuned transformer classifier, shipped as int8 ONNX and run with onnxruntime on CPU.

Used for English sentiment, where the character n-gram model is weakest (finance tweets): a
MiniLM-L6 sentence encoder fine-tuned by ``yuqing train sentiment-transformer`` (which needs the
``train-transformer`` extra: PyTorch and the packaged base model) and exported to ONNX with
int8 weights. Prediction needs only onnxruntime and the tokenizer file, both shipped; one thread
per process, one text per run (no padding; the same text always gets the same scores).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MAX_TOKENS = 64


@dataclass
class TransformerModel:
    name: str
    version: str
    classes: tuple[str, ...]
    onnx_path: Path
    tokenizer_path: Path
    temperature: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(self.onnx_path), opts, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """One text per run: int8 dynamic quantisation scales activations per tensor, so a text
        batched with others would get (slightly) different scores than alone."""
        out = np.zeros((len(texts), len(self.classes)), dtype=np.float64)
        for i, enc in enumerate(self._tokenizer.encode_batch([t or " " for t in texts])):
            ids = np.asarray([enc.ids], dtype=np.int64)
            (z,) = self._session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
            out[i] = z[0]
        return out

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        z = self.logits(texts) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    @classmethod
    def load(cls, meta_path: Path) -> TransformerModel:
        """``<name>.json`` next to ``<name>.onnx`` and ``<name>.tokenizer.json``."""
        d = json.loads(meta_path.read_text("utf-8"))
        base = meta_path.with_suffix("")
        return cls(
            name=d["name"],
            version=d["version"],
            classes=tuple(d["classes"]),
            onnx_path=base.with_suffix(".onnx"),
            tokenizer_path=base.with_suffix(".tokenizer.json"),
            temperature=float(d.get("temperature", 1.0)),
            meta=dict(d.get("meta") or {}),
        )
