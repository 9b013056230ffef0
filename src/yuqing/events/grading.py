"""Grading I-IV from configurable YAML rules over event metrics (pure: rules + metrics in, level out).

See ``grading_rules.yaml`` for the format and the shipped defaults, and docs/events.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from yuqing.core.contracts import LEVELS, level_rank
from yuqing.errors import ConfigError

OPS = ("gte", "gt", "lte", "lt", "eq", "in")
NUMERIC_METRICS = (
    "mention_count",
    "negative_count",
    "negative_share",
    "window_count",
    "velocity",
    "growth",
    "reach",
    "platform_count",
    "unique_authors",
    "tier_rank",
)
BOOL_METRICS = ("central_media", "regulator")
TEXT_METRICS = ("risk_type",)
METRICS = NUMERIC_METRICS + BOOL_METRICS + TEXT_METRICS

TIER_RANK = {
    "central_media": 5,
    "regulator": 5,
    "financial_media": 4,
    "local_media": 3,
    "self_media": 2,
    "personal": 1,
}
TIER_ZH = {
    "central_media": "央媒",
    "regulator": "监管机构",
    "financial_media": "财经媒体",
    "local_media": "地方媒体",
    "self_media": "自媒体",
    "personal": "个人",
}


@dataclass(frozen=True)
class Condition:
    metric: str | None  # None for an ``any`` group
    op: str
    value: Any
    any_of: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Rule:
    name: str
    level: str
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    window_hours: float = 2.0


@dataclass(frozen=True)
class Grade:
    level: str
    rule: str | None
    reasons: tuple[str, ...]
    reasons_en: tuple[str, ...]

    @property
    def reason_text(self) -> str:
        return " + ".join(self.reasons)

    @property
    def reason_text_en(self) -> str:
        return " + ".join(self.reasons_en)


# -- loading ---------------------------------------------------------------------------------


def _bad(where: str, msg: str) -> ConfigError:
    return ConfigError(f"分级规则无效 / invalid grading rules ({where}): {msg}")


def _condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, dict):
        raise _bad(where, "a condition must be a mapping")
    if "any" in raw:
        items = raw["any"]
        if not isinstance(items, list) or not items:
            raise _bad(where, "`any` needs a non-empty list")
        return Condition(None, "any", None, tuple(_condition(c, f"{where}.any") for c in items))
    metric = raw.get("metric")
    if metric not in METRICS:
        raise _bad(where, f"unknown metric {metric!r} (known: {', '.join(METRICS)})")
    ops = [k for k in raw if k != "metric"]
    if len(ops) != 1 or ops[0] not in OPS:
        raise _bad(where, f"exactly one operator of {', '.join(OPS)} is needed, got {ops}")
    op = ops[0]
    value = raw[op]
    if op == "in":
        if not isinstance(value, list) or not value:
            raise _bad(where, "`in` needs a non-empty list")
    elif metric in NUMERIC_METRICS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(where, f"{metric} needs a number, got {value!r}")
    elif metric in BOOL_METRICS:
        if op != "eq" or not isinstance(value, bool):
            raise _bad(where, f"{metric} supports only `eq: true|false`")
    elif op != "eq":
        raise _bad(where, f"{metric} supports only `eq` or `in`")
    return Condition(metric, op, value)


def parse_rules(data: Any, origin: str = "rules") -> Rules:
    """Validate a parsed YAML document into :class:`Rules`; raises :class:`ConfigError`."""
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise _bad(origin, "top level must be a mapping with a `rules:` list")
    window = data.get("window_hours", 2)
    if isinstance(window, bool) or not isinstance(window, int | float) or window <= 0:
        raise _bad(origin, "window_hours must be a positive number")
    rules = []
    names = set()
    for i, raw in enumerate(data["rules"]):
        where = f"{origin} rule #{i + 1}"
        if not isinstance(raw, dict):
            raise _bad(where, "a rule must be a mapping")
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise _bad(where, "a rule needs a `name`")
        if name in names:
            raise _bad(where, f"duplicate rule name {name!r}")
        names.add(name)
        level = raw.get("level")
        if level not in LEVELS:
            raise _bad(where, f"level must be one of {', '.join(LEVELS)}, got {level!r}")
        conds = raw.get("all")
        if not isinstance(conds, list) or not conds:
            raise _bad(where, "a rule needs a non-empty `all:` list of conditions")
        rules.append(Rule(name, level, tuple(_condition(c, f"{where} ({name})") for c in conds)))
    return Rules(tuple(rules), float(window))


def load_rules_text(text: str, origin: str) -> Rules:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _bad(origin, f"YAML syntax: {exc}") from exc
    return parse_rules(data, origin)


@lru_cache(maxsize=8)
def load_rules(path: str | None = None) -> Rules:
    """The rules at ``path`` (settings.events.grading_rules_file) or the shipped defaults."""
    if path is None:
        text = resources.files("yuqing.events").joinpath("grading_rules.yaml").read_text(encoding="utf-8")
        return load_rules_text(text, "grading_rules.yaml")
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"分级规则文件不存在 / grading rules file not found: {path}")
    return load_rules_text(p.read_text(encoding="utf-8"), str(p))


# -- evaluation ------------------------------------------------------------------------------


def _holds(c: Condition, metrics: Mapping[str, Any]) -> bool:
    if c.op == "any":
        return any(_holds(x, metrics) for x in c.any_of)
    assert c.metric is not None
    v = metrics.get(c.metric)
    if c.op == "in":
        return v in c.value
    if c.op == "eq":
        return bool(v == c.value)
    if v is None:
        return False
    if c.op == "gte":
        return bool(v >= c.value)
    if c.op == "gt":
        return bool(v > c.value)
    if c.op == "lte":
        return bool(v <= c.value)
    return bool(v < c.value)


def _phrase(c: Condition, metrics: Mapping[str, Any], window: float) -> tuple[str, str]:
    """Plain words for a condition that held, using the event's actual value."""
    if c.op == "any":
        for x in c.any_of:
            if _holds(x, metrics):
                return _phrase(x, metrics, window)
    m = c.metric
    v = metrics.get(m or "")
    w = f"{window:g}"
    if m == "central_media":
        return ("央媒报道", "central media coverage") if v else ("无央媒报道", "no central media")
    if m == "regulator":
        return ("监管机构介入", "regulator involved") if v else ("无监管介入", "no regulator")
    if m == "negative_share":
        return f"负面占比 {v:.0%}", f"negative share {v:.0%}"
    if m == "window_count":
        return f"{w} 小时内 {v:,} 条", f"{v:,} mentions in {w} h"
    if m == "negative_count":
        return f"负面 {v:,} 条", f"{v:,} negative mentions"
    if m == "mention_count":
        return f"累计 {v:,} 条", f"{v:,} mentions in total"
    if m == "velocity":
        return f"每小时 {v:,.0f} 条", f"{v:,.0f} mentions/hour"
    if m == "growth":
        return f"增速为前一时段的 {v:.1f} 倍", f"{v:.1f}x the previous window"
    if m == "reach":
        return f"传播力 {v:,.0f}", f"reach {v:,.0f}"
    if m == "platform_count":
        return f"{v} 个平台传播", f"on {v} platforms"
    if m == "unique_authors":
        return f"{v:,} 位作者", f"{v:,} authors"
    if m == "tier_rank":
        tier = metrics.get("highest_tier") or ""
        return f"{TIER_ZH.get(tier, tier)}报道", f"{tier.replace('_', ' ')} coverage"
    if m == "risk_type":
        return f"风险类型：{v}", f"risk type: {v}"
    return f"{m}={v}", f"{m}={v}"


def grade(metrics: Mapping[str, Any], rules: Rules) -> Grade:
    """The most severe matching rule's level with its reasons; IV with the volume when none match."""
    best: Rule | None = None
    for rule in rules.rules:
        if all(_holds(c, metrics) for c in rule.conditions) and (
            best is None or level_rank(rule.level) > level_rank(best.level)
        ):
            best = rule
    if best is None:
        n = int(metrics.get("mention_count", 0) or 0)
        share = float(metrics.get("negative_share", 0.0) or 0.0)
        return Grade(
            "IV",
            None,
            (f"累计 {n:,} 条", f"负面占比 {share:.0%}"),
            (f"{n:,} mentions in total", f"negative share {share:.0%}"),
        )
    phrases = [_phrase(c, metrics, rules.window_hours) for c in best.conditions]
    return Grade(best.level, best.name, tuple(p[0] for p in phrases), tuple(p[1] for p in phrases))
