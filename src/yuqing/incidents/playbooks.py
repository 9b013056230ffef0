"""Playbooks: per risk type and level, the tasks a response starts with (pure).

A playbook file (YAML) has ``roles`` (owner role -> person selectors, resolved against the
organisation by the service) and ``playbooks`` (matched on the incident's trigger category and risk
type; the first match wins, a playbook with an empty ``match`` is the fallback). Each task has a
``key``, a bilingual ``title``, an ``owner`` role, a ``due`` offset (``"2h"``, ``"30m"``, ``"1d"``,
a number of hours, or a mapping per level with ``default``) and optionally the ``levels`` it applies to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from yuqing.core.contracts import LEVELS
from yuqing.errors import NotFound, ValidationError

_OFFSET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd]?)\s*$")
_UNITS = {"m": 60.0, "h": 3600.0, "d": 86400.0, "": 3600.0}


@dataclass(frozen=True)
class TaskTemplate:
    key: str
    title: str
    owner: str
    due: dict[str, timedelta]  # level -> offset; "default" for the rest
    description: str = ""
    levels: tuple[str, ...] = LEVELS

    def offset(self, level: str) -> timedelta:
        return self.due.get(level, self.due["default"])


@dataclass(frozen=True)
class Playbook:
    key: str
    name: str
    categories: tuple[str, ...] = ()
    risk_types: tuple[str, ...] = ()
    tasks: tuple[TaskTemplate, ...] = ()

    @property
    def is_fallback(self) -> bool:
        return not self.categories and not self.risk_types


@dataclass(frozen=True)
class PlaybookSet:
    roles: dict[str, tuple[str, ...]]
    playbooks: tuple[Playbook, ...] = field(default_factory=tuple)

    def get(self, key: str) -> Playbook:
        for p in self.playbooks:
            if p.key == key:
                return p
        raise NotFound(f"预案不存在 / no such playbook: {key}")


@dataclass(frozen=True)
class TaskSpec:
    """A task to create: what, who (owner role), by when."""

    key: str
    title: str
    owner: str
    due_at: datetime
    description: str = ""


def parse_offset(value: Any, where: str = "due") -> timedelta:
    if isinstance(value, bool):
        raise ValidationError(f"{where}: 无效时限 / invalid offset {value!r}")
    if isinstance(value, int | float):
        return timedelta(hours=float(value))
    m = _OFFSET.match(str(value))
    if not m:
        raise ValidationError(f"{where}: 无效时限 / invalid offset {value!r} (e.g. 2h, 30m, 1d)")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def _parse_due(value: Any, where: str) -> dict[str, timedelta]:
    if isinstance(value, dict):
        out = {str(k): parse_offset(v, f"{where}.{k}") for k, v in value.items()}
        for k in out:
            if k != "default" and k not in LEVELS:
                raise ValidationError(f"{where}: 未知等级 / unknown level {k}")
        if "default" not in out:
            if not all(lv in out for lv in LEVELS):
                raise ValidationError(f"{where}: 须有 default 或覆盖全部等级 / needs default or every level")
            out["default"] = out["IV"]
        return out
    return {"default": parse_offset(value, where)}


def parse_playbooks(data: dict[str, Any]) -> PlaybookSet:
    """Validate and parse a playbook document; errors name the entry."""
    if not isinstance(data, dict):
        raise ValidationError("预案文件须为映射 / playbook YAML must be a mapping")
    roles = {str(k): tuple(str(s) for s in (v or [])) for k, v in (data.get("roles") or {}).items()}
    books = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("playbooks") or []):
        where = f"playbooks[{i}]"
        if not isinstance(raw, dict) or not raw.get("key") or not raw.get("name"):
            raise ValidationError(f"{where} 需要 key 与 name / needs key and name")
        if raw["key"] in seen:
            raise ValidationError(f"{where} 重复的 key / duplicate key {raw['key']}")
        seen.add(raw["key"])
        tasks = []
        for j, t in enumerate(raw.get("tasks") or []):
            tw = f"{where}.tasks[{j}]"
            if not isinstance(t, dict) or not t.get("key") or not t.get("title") or not t.get("owner"):
                raise ValidationError(f"{tw} 需要 key、title、owner / needs key, title and owner")
            if t["owner"] not in roles:
                raise ValidationError(f"{tw} 未知负责角色 / unknown owner role {t['owner']}")
            levels = tuple(str(lv) for lv in (t.get("levels") or LEVELS))
            for lv in levels:
                if lv not in LEVELS:
                    raise ValidationError(f"{tw} 未知等级 / unknown level {lv}")
            tasks.append(
                TaskTemplate(
                    key=str(t["key"]),
                    title=str(t["title"]),
                    owner=str(t["owner"]),
                    due=_parse_due(t.get("due", "24h"), f"{tw}.due"),
                    description=str(t.get("description") or ""),
                    levels=levels,
                )
            )
        match = raw.get("match") or {}
        books.append(
            Playbook(
                key=str(raw["key"]),
                name=str(raw["name"]),
                categories=tuple(match.get("categories") or ()),
                risk_types=tuple(match.get("risk_types") or ()),
                tasks=tuple(tasks),
            )
        )
    if not any(b.is_fallback for b in books):
        raise ValidationError(
            "预案须包含一个通用预案（match 为空）/ playbooks need one fallback with empty match"
        )
    return PlaybookSet(roles=roles, playbooks=tuple(books))


def shipped_path() -> Path:
    return Path(str(files("yuqing.incidents") / "playbooks.yaml"))


def load_playbooks(path: str | Path | None = None) -> PlaybookSet:
    target = Path(path) if path else shipped_path()
    try:
        data = yaml.safe_load(target.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise NotFound(f"预案文件不存在 / playbook file not found: {target}") from exc
    except yaml.YAMLError as exc:
        raise ValidationError(f"预案文件格式错误 / malformed playbook YAML {target}: {exc}") from exc
    return parse_playbooks(data)


def select_playbook(book: PlaybookSet, category: str | None, risk_type: str | None) -> Playbook:
    """The first playbook matching the risk type, else the category, else the fallback."""
    if risk_type:
        for p in book.playbooks:
            if risk_type in p.risk_types:
                return p
    if category:
        for p in book.playbooks:
            if category in p.categories:
                return p
    return next(p for p in book.playbooks if p.is_fallback)


def expand(playbook: Playbook, level: str, opened_at: datetime) -> list[TaskSpec]:
    """The playbook's tasks for ``level``, due relative to ``opened_at``, in due order."""
    specs = [
        TaskSpec(t.key, t.title, t.owner, opened_at + t.offset(level), t.description)
        for t in playbook.tasks
        if level in t.levels
    ]
    return sorted(specs, key=lambda s: (s.due_at, s.key))
