"""Readers of the public labelled sets in ../shared/data (formats: /work/shared/data/README.md).

Each reader yields plain records; ``sha256`` of every file read is recorded in the model card.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from yuqing.errors import ValidationError

csv.field_size_limit(10_000_000)


@dataclass
class Labelled:
    text: str
    label: str
    source: str  # dataset name, for cross-dataset checks


@dataclass
class SubjectRecord:
    id: str
    title: str
    text: str
    entities: list[str]
    negative: bool
    key_entities: list[str] = field(default_factory=list)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _split(s: str) -> list[str]:
    return [x.strip() for x in (s or "").split(";") if x.strip()]


def finnsp(root: Path) -> list[SubjectRecord]:
    rows = json.loads((root / "finnsp" / "train_list.json").read_text("utf-8"))
    out = []
    for r in rows:
        if len(r) < 6 or r[4] not in ("0", "1"):
            continue
        out.append(SubjectRecord(r[0], r[1] or "", r[2] or "", _split(r[3]), r[4] == "1", _split(r[5])))
    return out


def finnsp_text(rec: SubjectRecord) -> str:
    title = rec.title.strip()
    return rec.text if not title or title in rec.text else f"{title}。{rec.text}"


def sentiment_zh(root: Path) -> Iterator[Labelled]:
    with (root / "weibo_senti_100k" / "dev.csv").open(encoding="utf-8") as f:
        next(f)
        for line in f:
            label, _, text = line.rstrip("\n").partition("\t")
            if label in ("0", "1") and text.strip():
                yield Labelled(text, "positive" if label == "1" else "negative", "weibo_senti_100k")
    for name in ("train.tsv", "dev.tsv", "test.tsv"):
        with (root / "chnsenticorp" / name).open(encoding="utf-8") as f:
            next(f)
            for line in f:
                label, _, text = line.rstrip("\n").partition("\t")
                if label in ("0", "1") and text.strip():
                    yield Labelled(text, "positive" if label == "1" else "negative", "chnsenticorp")
    with (root / "chnsenticorp" / "ChnSentiCorp_htl_all.csv").open(encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            if len(row) >= 2 and row[0] in ("0", "1") and row[1].strip():
                yield Labelled(row[1], "positive" if row[0] == "1" else "negative", "chnsenticorp_htl")
    for text, label in json.loads((root / "finfe" / "train_list.json").read_text("utf-8")):
        yield Labelled(str(text), ("negative", "neutral", "positive")[int(label)], "finfe")
    for rec in finnsp(root):
        yield Labelled(finnsp_text(rec), "negative" if rec.negative else "neutral", "finnsp")


def _score_label(score: float) -> str:
    return "negative" if score < -0.1 else "positive" if score > 0.1 else "neutral"


def sentiment_en(root: Path) -> Iterator[Labelled]:
    with (root / "financial_phrasebank" / "Sentences_50Agree.txt").open(encoding="iso-8859-1") as f:
        for line in f:
            text, _, label = line.strip().rpartition("@")
            if label in ("negative", "neutral", "positive"):
                yield Labelled(text, label, "financial_phrasebank")
    with (root / "twitter_financial_news" / "sent_train.csv").open(encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            if len(row) == 2 and row[1] in ("0", "1", "2"):
                yield Labelled(
                    row[0], {"0": "negative", "1": "positive", "2": "neutral"}[row[1]], "twitter_fin"
                )
    for name in ("task1_headline_ABSA_train.json", "task1_post_ABSA_train.json"):
        data = json.loads((root / "fiqa2018" / name).read_text("utf-8"))
        for item in data.values():
            scores = [float(i["sentiment_score"]) for i in item.get("info", [])]
            if scores:
                yield Labelled(item["sentence"], _score_label(sum(scores) / len(scores)), "fiqa2018")
    for item in json.loads(
        (root / "semeval2017_headlines" / "SemEval2017Task5Headlines.json").read_text("utf-8")
    ):
        yield Labelled(item["title"], _score_label(float(item["sentiment"])), "semeval2017")
    # Real consumer complaints (CFPB narratives): negative for an institution's reputation, which the
    # market-sentiment sets above do not teach (the model trained on them alone read 15 % of these
    # complaints as negative). Long narratives are cut by the feature extractors as any text is.
    with (root / "cfpb_complaints" / "complaints_sample_ziyuyan9.csv").open(encoding="utf-8") as f:
        for complaint in csv.DictReader(f):
            narrative = (complaint.get("Consumer complaint narrative") or "").strip()
            if narrative:
                yield Labelled(narrative, "negative", "cfpb_complaints")


def risk_ccks(root: Path) -> Iterator[Labelled]:
    path = root / "ccks2019_fin_event" / "event_type_entity_extract_train.csv"
    with path.open(encoding="utf-8") as f:
        for row in csv.reader(f):
            if len(row) >= 3 and row[2].strip():
                yield Labelled(row[1], row[2].strip(), "ccks2019_fin_event")


SENTIMENT_FILES = {
    "zh": [
        "weibo_senti_100k/dev.csv",
        "chnsenticorp/train.tsv",
        "chnsenticorp/dev.tsv",
        "chnsenticorp/test.tsv",
        "chnsenticorp/ChnSentiCorp_htl_all.csv",
        "finfe/train_list.json",
        "finnsp/train_list.json",
    ],
    "en": [
        "financial_phrasebank/Sentences_50Agree.txt",
        "twitter_financial_news/sent_train.csv",
        "fiqa2018/task1_headline_ABSA_train.json",
        "fiqa2018/task1_post_ABSA_train.json",
        "semeval2017_headlines/SemEval2017Task5Headlines.json",
        "cfpb_complaints/complaints_sample_ziyuyan9.csv",
    ],
}
SUBJECT_FILES = ["finnsp/train_list.json"]
RISK_FILES = ["ccks2019_fin_event/event_type_entity_extract_train.csv"]


def require(root: Path, files: list[str]) -> dict[str, str]:
    """sha256 of each file; a clear error when the data is missing."""
    out = {}
    for rel in files:
        p = root / rel
        if not p.is_file():
            raise ValidationError(f"找不到训练数据 / training data not found: {p}", code="data_missing")
        out[rel] = sha256(p)
    return out


def read_jsonl(path: Path) -> list[dict[str, object]]:
    """One JSON object per line; errors name the line."""
    if not path.is_file():
        raise ValidationError(f"文件不存在 / file not found: {path}", code="data_missing")
    out: list[dict[str, object]] = []
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValidationError(
                    f"{path}:{i}: 不是合法的 JSON / malformed JSON: {exc.msg}", code="bad_line", line=i
                ) from None
            if not isinstance(obj, dict):
                raise ValidationError(
                    f"{path}:{i}: 每行应为 JSON 对象 / each line must be a JSON object", line=i
                )
            obj["_line"] = i
            out.append(obj)
    if not out:
        raise ValidationError(f"{path}: 文件为空 / empty file", code="empty_file")
    return out
