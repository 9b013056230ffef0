"""Feature extraction shared by the models: hashed character n-grams (no vocabulary to ship).

The zh text vector (char 1-3-grams, binary, L2) is computed once per mention and shared by the
sentiment and risk models; English uses word 1-2-grams plus char 3-5-grams within words. The risk
model adds hashed word 1-2-grams of the segmentation the stage already has (``word_vectors``).
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

ZH_FEATURES = 2**18
EN_FEATURES = 2**18
MAX_CHARS = 600  # long articles: the head carries the story (title + lead); keeps the stage fast
_URL = re.compile(r"https?://\S+")
_NUM = re.compile(r"\d+(?:[.,]\d+)*")


def clean(text: str) -> str:
    text = _URL.sub(" ", text[: MAX_CHARS * 2])
    return _NUM.sub("0", text)[:MAX_CHARS]


@functools.cache
def _en_hashers() -> tuple[HashingVectorizer, HashingVectorizer]:
    common = {"n_features": EN_FEATURES // 2, "alternate_sign": False, "binary": True, "dtype": np.float32}
    words = HashingVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        token_pattern=r"(?u)\b\w[\w'$]*\b",  # noqa: S106
        norm="l2",
        **common,
    )
    chars = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), norm="l2", **common)
    return words, chars


_K1 = np.uint64(0x100000001B3)
_K2 = np.uint64(0x9E3779B97F4A7C15)
_OFFSETS = (np.uint64(0), np.uint64(0x51ED270B), np.uint64(0xA3B195354A39B70D))


def _bucket(h: np.ndarray, n_features: int) -> np.ndarray:
    """Mix raw n-gram hashes (uint64) and fold them into ``n_features`` columns."""
    v = h * _K2
    v ^= v >> np.uint64(29)
    return v % np.uint64(n_features)


def hashed_char_ngrams(texts: Sequence[str], n_features: int, max_n: int = 3) -> sp.csr_matrix:
    """Hashed character 1..max_n-gram counts of a batch, each row scaled by 1/sqrt(its n-gram count).

    Fully vectorised: the batch is concatenated into one code-point array (rows separated by NUL),
    n-grams crossing a separator are dropped, and the CSR matrix is built in position order (no
    sort). Repeated n-grams stay as duplicate entries, which sparse products sum, i.e. counts.
    About 10x faster than sklearn's HashingVectorizer, which builds every n-gram as a string.
    """
    docs = [
        t.replace("\n", " ").replace("\t", " ").replace("\r", " ").replace("\x00", " ").lower() for t in texts
    ]
    n_docs = len(docs)
    joined = "\x00".join(docs) + "\x00"
    c = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    total = len(c)
    lengths = np.fromiter((len(d) + 1 for d in docs), dtype=np.int64, count=n_docs)
    row_of = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    sep = c == 0
    hashes = np.zeros((total, max_n), dtype=np.uint64)
    valid = np.zeros((total, max_n), dtype=bool)
    h = c.copy()
    bad = sep.copy()
    for n in range(1, max_n + 1):
        if n > 1:
            if total < n:
                break
            h = h[:-1] * _K1 + c[n - 1 :]
            bad = bad[:-1] | sep[n - 1 :]
        v = _bucket(h + _OFFSETS[n - 1], n_features)
        hashes[: len(v), n - 1] = v
        valid[: len(v), n - 1] = ~bad
    cols = hashes[valid].astype(np.int32)
    per_pos = valid.sum(axis=1)
    counts = np.bincount(row_of, weights=per_pos, minlength=n_docs).astype(np.int64)
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    data = np.repeat((1 / np.sqrt(np.maximum(counts, 1))).astype(np.float32), counts)
    return sp.csr_matrix((data, cols, indptr), shape=(n_docs, n_features))


WORD_FEATURES = 2**16
_WORD_IDS: dict[str, int] = {}  # token -> a stable 32-bit id (crc32; numbers share one), remembered
_WORD_IDS_MAX = 200_000  # ~30 MB at most; the vocabulary that recurs fits


def _word_id(token: str) -> int:
    wid = zlib.crc32(b"0" if token.isdigit() else token.encode("utf-8"))
    if len(_WORD_IDS) < _WORD_IDS_MAX:
        _WORD_IDS[token] = wid
    return wid


def word_vectors(
    token_lists: Sequence[Sequence[str]], n_features: int = WORD_FEATURES, bigrams: bool = True
) -> sp.csr_matrix:
    """Hashed word 1-2-grams (numbers as one word) of token lists, L2-normalised rows. Vectorised
    like :func:`hashed_char_ngrams`: one id lookup per token, the rest in numpy (sklearn's
    HashingVectorizer builds every bigram as a string: 8x slower)."""
    n_docs = len(token_lists)
    lengths = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=n_docs)
    get = _WORD_IDS.get
    ids = np.fromiter(
        (w if (w := get(t)) is not None else _word_id(t) for toks in token_lists for t in toks),
        dtype=np.uint64,
        count=int(lengths.sum()),
    )
    row_of = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    last = np.cumsum(lengths)[lengths > 0] - 1  # a doc's last token starts no bigram
    pair = np.full(max(len(ids) - 1, 0), bigrams, dtype=bool)
    pair[last[last < len(pair)]] = False
    grams = np.concatenate([ids + _OFFSETS[1], (ids[:-1] * _K1 + ids[1:])[pair]])
    cols = _bucket(grams, n_features).astype(np.int32)
    rows = np.concatenate([row_of, row_of[:-1][pair]])
    x = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(n_docs, n_features))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    x.data /= np.repeat(np.maximum(norms, 1e-12), np.diff(x.indptr)).astype(np.float32)
    return x


def zh_vectors(texts: Sequence[str]) -> sp.csr_matrix:
    return hashed_char_ngrams([clean(t) for t in texts], ZH_FEATURES)


def en_vectors(texts: Sequence[str]) -> sp.csr_matrix:
    cleaned = [clean(t) for t in texts]
    words, chars = _en_hashers()
    m = sp.hstack([words.transform(cleaned), chars.transform(cleaned)], format="csr") * np.float32(
        1 / np.sqrt(2)
    )
    return sp.csr_matrix(m, dtype=np.float32)


def vectors(texts: Sequence[str], lang: str) -> sp.csr_matrix:
    return en_vectors(texts) if lang == "en" else zh_vectors(texts)


# A small finance sentiment lexicon, appended to the sentiment features as 4 dense columns (log
# counts and presence of negative / positive cues). The weights are learnt with the n-grams; the
# lexicon carries the finance sense of words that the public sets (reviews, Weibo) under-represent,
# e.g. a complaint news item is negative even when written in neutral news style.
ZH_NEG = [
    "投诉",
    "维权",
    "欺诈",
    "诈骗",
    "骗",
    "违规",
    "违法",
    "处罚",
    "罚款",
    "罚单",
    "被罚",
    "暴雷",
    "爆雷",
    "挤兑",
    "故障",
    "宕机",
    "崩溃",
    "泄露",
    "亏损",
    "巨亏",
    "逾期",
    "催收",
    "跑路",
    "失联",
    "乱收费",
    "坑",
    "垃圾",
    "愤怒",
    "气愤",
    "退钱",
    "下跌",
    "跌停",
    "暴跌",
    "风险",
    "立案",
    "调查",
    "被查",
    "冻结",
    "纠纷",
    "起诉",
    "索赔",
    "损失",
    "误导",
    "套路",
    "霸王",
    "拒绝",
    "无法",
    "不能",
    "失败",
    "问题",
    "下调",
    "降级",
    "违约",
    "破产",
    "倒闭",
    "造假",
    "警示",
    "曝光",
    "黑幕",
    "恶意",
    "骚扰",
    "威胁",
    "差评",
    "失望",
    "无语",
    "太差",
]
ZH_POS = [
    "好评",
    "满意",
    "感谢",
    "点赞",
    "优秀",
    "上涨",
    "涨停",
    "大涨",
    "增长",
    "获奖",
    "荣获",
    "创新高",
    "喜欢",
    "支持",
    "推荐",
    "方便",
    "贴心",
    "耐心",
    "专业",
    "稳健",
    "领先",
    "突破",
    "提升",
    "盈利",
    "超预期",
]
EN_NEG = [
    "hate",
    "crash",
    "crashed",
    "fraud",
    "lawsuit",
    "sued",
    "fined",
    "fine",
    "penalty",
    "outage",
    "breach",
    "loss",
    "losses",
    "plunge",
    "plunges",
    "falls",
    "fell",
    "drop",
    "drops",
    "cut",
    "cuts",
    "downgrade",
    "downgraded",
    "miss",
    "misses",
    "missed",
    "weak",
    "bankrupt",
    "bankruptcy",
    "scandal",
    "probe",
    "investigation",
    "layoffs",
    "warning",
    "bearish",
    "sell-off",
    "selloff",
    "slump",
    "slumps",
    "tumble",
    "tumbles",
    "worst",
    "angry",
    "terrible",
]
EN_POS = [
    "beat",
    "beats",
    "surge",
    "surges",
    "soar",
    "soars",
    "gain",
    "gains",
    "rise",
    "rises",
    "rose",
    "record",
    "strong",
    "upgrade",
    "upgraded",
    "growth",
    "profit",
    "raises",
    "bullish",
    "outperform",
    "love",
    "great",
    "best",
    "rally",
    "rallies",
    "jump",
    "jumps",
]
LEXICON_SCALE = np.float32(2.0)
_LEX = {
    "zh": (re.compile("|".join(ZH_NEG)), re.compile("|".join(ZH_POS))),
    "en": (
        re.compile(r"\b(?:" + "|".join(map(re.escape, EN_NEG)) + r")\b", re.IGNORECASE),
        re.compile(r"\b(?:" + "|".join(map(re.escape, EN_POS)) + r")\b", re.IGNORECASE),
    ),
}
N_LEXICON = 4


def lexicon_features(texts: Sequence[str], lang: str) -> sp.csr_matrix:
    neg_re, pos_re = _LEX["en" if lang == "en" else "zh"]
    rows = []
    for t in texts:
        t = t[:MAX_CHARS]
        n, p = len(neg_re.findall(t)), len(pos_re.findall(t))
        rows.append([np.log1p(n), np.log1p(p), float(n > 0), float(p > 0)])
    return sp.csr_matrix(np.asarray(rows, dtype=np.float32).reshape(len(rows), N_LEXICON) * LEXICON_SCALE)


def sentiment_design(x: sp.csr_matrix, texts: Sequence[str], lang: str) -> sp.csr_matrix:
    """The sentiment model's input: the text vector plus the lexicon columns."""
    return sp.hstack([x, lexicon_features(texts, lang)], format="csr")
