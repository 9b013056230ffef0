"""Routing rules (pure): who is told about an alert, and why.

Rules are data: ``rules.yaml`` shipped with the plan's defaults (or ``settings.alerts.rules_file``)
plus ``alert_routing_rules`` rows in the database (a row with the name of a file rule replaces it).
A rule matches on kind, level, target, risk type and time (working hours vs nights/weekends in
``settings.timezone``) and names recipients by group role, the group's duty roster or person key.
The organisation is given as plain data (:class:`OrgView`), so this module never touches storage.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from yuqing.core.contracts import LEVEL_NAMES_ZH, LEVELS
from yuqing.errors import ConfigError

DEFAULT_RULES_FILE = Path(__file__).with_name("rules.yaml")
ROLES = ("leader", "deputy", "member")
ROLE_ZH = {"leader": "组长", "deputy": "副组长", "member": "成员"}
GROUP_ZH = {
    "management": "应急管理小组",
    "monitoring": "监测小组",
    "response": "应急响应小组",
    "logistics": "后勤保障组",
}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> float:
    """``90``, ``"90s"``, ``"10m"``, ``"2h"``, ``"1d"`` -> seconds."""
    if isinstance(value, bool):
        raise ValueError("duration must be a number or like '10m'")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("duration must not be negative")
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"bad duration {value!r} (use e.g. 30s, 10m, 2h)")
    return float(m.group(1)) * _UNITS[m.group(2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecipientSpec(_Strict):
    """A line of a rule's ``notify``: a group (by role or on duty), a person, or the original recipients."""

    group: str | None = None
    roles: tuple[Literal["leader", "deputy", "member"], ...] | None = None
    on_duty: bool = False
    person: str | None = None
    original: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> RecipientSpec:
        chosen = sum(x for x in (self.group is not None, self.person is not None, self.original))
        if chosen != 1:
            raise ValueError("name exactly one of group, person or original")
        if (self.roles or self.on_duty) and self.group is None:
            raise ValueError("roles/on_duty need a group")
        if self.roles and self.on_duty:
            raise ValueError("use either roles or on_duty, not both")
        return self


class When(_Strict):
    kinds: tuple[str, ...] | None = None  # glob patterns, e.g. "incident*"
    exclude_kinds: tuple[str, ...] = ()
    levels: tuple[Literal["I", "II", "III", "IV"], ...] | None = None
    min_level: Literal["I", "II", "III", "IV"] | None = None
    targets: tuple[int, ...] | None = None
    risk_types: tuple[str, ...] | None = None
    time: Literal["any", "working_hours", "off_hours"] = "any"


class Rule(_Strict):
    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    enabled: bool = True
    when: When = When()
    notify: tuple[RecipientSpec, ...] = Field(min_length=1)


class WorkingHours(_Strict):
    days: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] = (
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
    )
    start: time = time(9, 0)
    end: time = time(18, 0)
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()  # weekend days that are working days (调休)

    @model_validator(mode="after")
    def _order(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class EscalationStep(_Strict):
    after: float = Field(0.0, description="Seconds after the ack deadline")
    notify: tuple[RecipientSpec, ...] = Field(min_length=1)
    repeat: int = Field(0, ge=0, le=20)
    every: float = Field(600.0, gt=0)

    @field_validator("after", "every", mode="before")
    @classmethod
    def _dur(cls, v: Any) -> float:
        return parse_duration(v)


class EscalationChain(_Strict):
    ack_within: float
    steps: tuple[EscalationStep, ...] = ()
    final: EscalationStep | None = None

    @field_validator("ack_within", mode="before")
    @classmethod
    def _dur(cls, v: Any) -> float:
        return parse_duration(v)


class RuleSet(_Strict):
    timezone: str | None = None
    working_hours: WorkingHours = WorkingHours()
    rules: tuple[Rule, ...] = ()
    escalation: dict[Literal["I", "II", "III", "IV"], EscalationChain] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique(self) -> RuleSet:
        names = [r.name for r in self.rules]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"duplicate rule names: {sorted(dup)}")
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except Exception as exc:
                raise ValueError(f"unknown timezone {self.timezone!r}") from exc
        return self

    def with_rules(self, extra: list[Rule]) -> RuleSet:
        """These rules plus ``extra`` (database rows); an extra rule replaces a file rule of its name."""
        by_name = {r.name: r for r in self.rules}
        order = [r.name for r in self.rules]
        for r in extra:
            if r.name not in by_name:
                order.append(r.name)
            by_name[r.name] = r
        return self.model_copy(update={"rules": tuple(by_name[n] for n in order)})


def parse_ruleset(data: Any, *, source: str = "rules") -> RuleSet:
    """Validate rules data; a bad field raises one :class:`ConfigError` naming it."""
    if not isinstance(data, dict):
        raise ConfigError(f"路由规则无效 / invalid routing rules in {source}: expected a mapping")
    try:
        return RuleSet.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise ConfigError(
            f"路由规则无效 / invalid routing rules in {source} at {where}: {first['msg']}"
        ) from exc


def parse_rule(data: Any, *, source: str = "database") -> Rule:
    try:
        return Rule.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise ConfigError(
            f"路由规则无效 / invalid routing rule in {source} at {where}: {first['msg']}"
        ) from exc


def load_ruleset(path: str | Path | None = None) -> RuleSet:
    p = Path(path) if path else DEFAULT_RULES_FILE
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"路由规则文件不存在 / rules file not found: {p}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"路由规则文件无法解析 / rules file is not valid YAML: {p}: {exc}") from exc
    return parse_ruleset(data, source=str(p))


# --- the organisation as plain data -------------------------------------------------------------


@dataclass(frozen=True)
class OrgView:
    """What routing needs to know about people at one moment."""

    names: dict[str, str] = field(default_factory=dict)  # person key -> display name
    groups: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # group -> role -> keys
    on_duty: dict[str, tuple[str, ...]] = field(default_factory=dict)  # group -> keys on shift now
    stand_ins: dict[str, str] = field(default_factory=dict)  # unavailable key -> key covering for them
    active: frozenset[str] | None = None  # None = everyone named is active

    def name(self, key: str) -> str:
        return self.names.get(key, key)


@dataclass(frozen=True)
class AlertFacts:
    kind: str
    level: str | None
    at: datetime
    target_ids: tuple[int, ...] = ()
    risk_type: str | None = None


@dataclass(frozen=True)
class RouteDecision:
    person: str
    reasons: tuple[str, ...]


def is_working_time(at: datetime, hours: WorkingHours, tz: str) -> bool:
    local = at.astimezone(ZoneInfo(tz))
    day = local.date()
    if day in hours.holidays:
        return False
    if day not in hours.workdays and DAYS[local.weekday()] not in hours.days:
        return False
    return hours.start <= local.time() < hours.end


def _level_ok(when: When, level: str | None) -> bool:
    if when.levels is not None and level not in when.levels:
        return False
    if when.min_level is not None:
        if level is None:
            return False
        return LEVELS.index(level) <= LEVELS.index(when.min_level)
    return True


def rule_matches(rule: Rule, facts: AlertFacts, *, working: bool) -> bool:
    w = rule.when
    if not rule.enabled:
        return False
    if w.kinds is not None and not any(fnmatch.fnmatchcase(facts.kind, k) for k in w.kinds):
        return False
    if any(fnmatch.fnmatchcase(facts.kind, k) for k in w.exclude_kinds):
        return False
    if not _level_ok(w, facts.level):
        return False
    if w.targets is not None and not set(w.targets) & set(facts.target_ids):
        return False
    if w.risk_types is not None and facts.risk_type not in w.risk_types:
        return False
    if w.time == "working_hours" and not working:
        return False
    return not (w.time == "off_hours" and working)


def describe_spec(spec: RecipientSpec) -> str:
    if spec.person is not None:
        return f"指定人员 {spec.person} / named person"
    if spec.original:
        return "原接收人 / original recipients"
    group = spec.group or ""
    gzh = GROUP_ZH.get(group, group)
    if spec.on_duty:
        return f"{gzh}值班人员 / {group} group on duty"
    if spec.roles:
        rz = "、".join(ROLE_ZH[r] for r in spec.roles)
        return f"{gzh}{rz} / {group} {'+'.join(spec.roles)}"
    return f"{gzh}全体 / all of {group} group"


def expand_spec(spec: RecipientSpec, org: OrgView, original: tuple[str, ...] = ()) -> list[str]:
    """Person keys a recipient line names (before stand-ins)."""
    if spec.person is not None:
        return [spec.person]
    if spec.original:
        return list(original)
    group = org.groups.get(spec.group or "", {})
    if spec.on_duty:
        duty = org.on_duty.get(spec.group or "")
        if duty:
            return list(duty)
        return list(group.get("leader", ()))  # nobody on shift: the group's leader
    roles = spec.roles or ROLES
    out: list[str] = []
    for role in roles:
        out.extend(group.get(role, ()))
    return out


def resolve(
    specs: tuple[RecipientSpec, ...],
    org: OrgView,
    why: str,
    into: dict[str, list[str]],
    original: tuple[str, ...] = (),
) -> None:
    """Add the people ``specs`` name to ``into`` (person -> reasons), applying stand-ins."""
    for spec in specs:
        label = describe_spec(spec)
        for key in expand_spec(spec, org, original):
            reason = f"{why}: {label}"
            target = key
            seen: set[str] = set()
            while target in org.stand_ins and target not in seen:  # follow chains, never loop
                seen.add(target)
                target = org.stand_ins[target]
            if target != key:
                reason += f"; 代 {org.name(key)} 履职 / standing in for {key}"
            if org.active is not None and target not in org.active:
                continue
            into.setdefault(target, [])
            if reason not in into[target]:
                into[target].append(reason)


def route(ruleset: RuleSet, facts: AlertFacts, org: OrgView, tz: str) -> list[RouteDecision]:
    """Everyone an alert goes to, in order of first inclusion, each with the reasons."""
    tzname = ruleset.timezone or tz
    working = is_working_time(facts.at, ruleset.working_hours, tzname)
    when_txt = "工作时间 / working hours" if working else "非工作时间 / off hours"
    found: dict[str, list[str]] = {}
    for rule in ruleset.rules:
        if rule_matches(rule, facts, working=working):
            lvl = f" {facts.level}级{LEVEL_NAMES_ZH.get(facts.level or '', '')}" if facts.level else ""
            why = f"规则 {rule.name}（{facts.kind}{lvl}，{when_txt}）"
            resolve(rule.notify, org, why, found)
    return [RouteDecision(person=k, reasons=tuple(v)) for k, v in found.items()]
