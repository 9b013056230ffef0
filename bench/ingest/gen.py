"""Deterministic synthetic mentions for the ingest benchmarks (Chinese + English, near-dup copies)."""

from __future__ import annotations

import json
import random
from pathlib import Path

ZH_SUBJECTS = [
    "华信银行",
    "东岳银行",
    "滨海农商行",
    "某股份行",
    "一家城商行",
    "多家银行",
    "某理财子公司",
    "监管部门",
    "消费者",
    "网友",
]
ZH_PHRASES = [
    "信用卡分期手续费",
    "小额账户管理费",
    "存款利率下调",
    "理财产品净值回撤",
    "贷款审批流程",
    "手机银行系统故障",
    "客服电话无人接听",
    "网点排队时间过长",
    "年费自动扣收",
    "征信记录异常",
    "房贷提前还款",
    "消费贷利率",
    "大额存单额度",
    "转账限额调整",
    "反诈提醒短信",
    "养老金融产品",
    "三季报净利润增长",
    "不良贷款率下降",
    "数字人民币试点",
    "跨境支付便利化",
    "普惠小微贷款",
    "绿色金融债券",
    "资本充足率",
    "中间业务收入",
]
ZH_GLUE = [
    "引发关注",
    "遭到投诉",
    "持续发酵",
    "回应称",
    "表示将整改",
    "发布公告",
    "据悉",
    "记者了解到",
    "业内人士认为",
    "数据显示",
    "有客户反映",
    "截至目前",
    "对此",
    "另外",
    "值得注意的是",
    "相关负责人介绍",
]
EN_WORDS = [
    "bank",
    "fee",
    "dispute",
    "customers",
    "complained",
    "instalment",
    "interest",
    "rate",
    "regulator",
    "profit",
    "quarter",
    "loan",
    "deposit",
    "card",
    "statement",
    "refund",
    "service",
    "outage",
    "branch",
    "mobile",
    "app",
    "fraud",
    "warning",
    "growth",
    "margin",
    "capital",
    "bond",
    "market",
    "shares",
    "analysts",
    "said",
    "reported",
    "according",
    "investors",
    "credit",
    "risk",
    "policy",
    "pension",
    "payment",
    "cross-border",
    "digital",
    "yuan",
]
EMOJI = ["😡", "🙄", "👍", "😂", "🔥", "[怒]", "[doge]"]
PUNCT = ["，", "。", "！", "？", "；", "、", ",", ".", "!"]


def zh_text(rng: random.Random, length: int = 200) -> str:
    parts: list[str] = []
    while sum(len(p) for p in parts) < length:
        parts.append(
            rng.choice(ZH_SUBJECTS) + rng.choice(ZH_PHRASES) + rng.choice(ZH_GLUE) + rng.choice(PUNCT[:4])
        )
        if rng.random() < 0.3:
            parts.append(f"{rng.randint(2, 99)}.{rng.randint(0, 9)}%")
    return "".join(parts)[: length + 20]


def en_text(rng: random.Random, words: int = 35) -> str:
    return " ".join(rng.choice(EN_WORDS) for _ in range(words)).capitalize() + "."


EDITS = ("insert", "delete", "punctuation", "emoji", "repost", "mixed")


def edit(rng: random.Random, text: str, kind: str) -> str:
    if kind == "insert":
        i = rng.randrange(len(text))
        return text[:i] + rng.choice(["真的假的", "大家注意", "转需", " seriously "]) + text[i:]
    if kind == "delete":
        i = rng.randrange(max(1, len(text) - 25))
        return text[:i] + text[i + rng.randint(5, 20) :]
    if kind == "punctuation":
        return "".join(rng.choice(PUNCT) if c in PUNCT and rng.random() < 0.7 else c for c in text)
    if kind == "emoji":
        return text + "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 4)))
    if kind == "repost":
        who = rng.choice(["某某", "财经老K", "路人甲", "abc123"])
        return f"{rng.choice(['转发微博', '太离谱了', '这'])} //@{who}: {text}"
    return edit(
        rng, edit(rng, edit(rng, text, "repost"), "punctuation"), rng.choice(["insert", "delete", "emoji"])
    )


def mentions(n: int, dup_share: float = 0.1, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    out: list[dict] = []
    originals: list[str] = []
    for i in range(n):
        if originals and rng.random() < dup_share:
            text = edit(rng, rng.choice(originals[-2000:]), rng.choice(EDITS))
        else:
            text = zh_text(rng) if rng.random() < 0.8 else en_text(rng)
            originals.append(text)
        out.append(
            {
                "id": f"m{i}",
                "title": text[:20],
                "text": text,
                "url": f"https://weibo.example.com/{i}?utm_source=bench",
                "author": f"user{rng.randint(1, 5000)}",
                "author_followers": rng.randint(0, 100_000),
                "published": f"2026-03-0{1 + i % 5} {i % 24:02d}:{i % 60:02d}",
                "reposts": rng.randint(0, 100),
                "comments": rng.randint(0, 100),
                "likes": rng.randint(0, 1000),
                "platform": "weibo",
            }
        )
    return out


def write_jsonl(path: Path, n: int, seed: int = 1) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for m in mentions(n, seed=seed):
            fh.write(json.dumps(m, ensure_ascii=False) + "\n")
    return path
