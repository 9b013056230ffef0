"""Declarative column mappings for file imports (JSONL, CSV, Excel) and vendor pushes.

A mapping is YAML (shipped ones live in ``yuqing/sources/mappings/<name>.yaml``; a path works
too). Each *field* of :class:`~yuqing.sources.base.ItemDraft` maps to a *spec*:

- ``"Column name"`` — that column (dotted paths such as ``user.name`` reach into JSON objects);
- ``["A", "B"]`` — fallbacks: the first non-empty;
- ``{column: "A"}`` / ``{columns: [...]}`` — the same, long form;
- ``{join: ["Product", "Issue"], sep: " - "}`` — non-empty parts joined;
- ``{const: "complaint"}`` — a constant;
- ``{template: "https://x/{Complaint ID}"}`` — ``str.format`` over the row (empty if a part is);
- ``format: "%Y/%m/%d"`` on ``published`` — ``strptime`` format, then ``timezone``.

Top-level keys: ``name``, ``format`` (jsonl|csv|xlsx, the default when the file extension
does not say), ``platform``, ``lang``, ``timezone``, ``fields``, ``extra`` (columns copied to
``extra``), ``required`` (fields that must be non-empty, default none beyond title-or-text),
``source`` (defaults for a source created by ``yuqing ingest``: platform, tier, config).
Without a mapping, column names equal to the field names are used (identity mapping).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from yuqing.errors import ConfigError
from yuqing.sources.base import DRAFT_FIELDS, ItemDraft, ItemError

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
FIELDS = DRAFT_FIELDS
_IDENTITY: dict[str, Any] = {name: name for name in FIELDS}
_SPEC_KEYS = {"column", "columns", "join", "sep", "const", "template", "format"}
_MISSING = object()


@dataclass
class Mapping:
    name: str = "identity"
    format: str | None = None
    platform: str | None = None
    lang: str | None = None
    timezone: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "format": self.format,
            "platform": self.platform,
            "lang": self.lang,
            "timezone": self.timezone,
            "fields": self.fields,
            "extra": self.extra,
            "required": self.required,
            "source": self.source,
        }


def _check_spec(name: str, spec: Any) -> None:
    if spec is None or isinstance(spec, str):
        return
    if isinstance(spec, list):
        for s in spec:
            _check_spec(name, s)
        return
    if isinstance(spec, dict):
        unknown = set(spec) - _SPEC_KEYS
        if unknown:
            raise ConfigError(
                f"映射字段 {name} 含未知键 / mapping field {name}: unknown keys {sorted(unknown)}"
            )
        if not ({"column", "columns", "join", "const", "template"} & set(spec)):
            raise ConfigError(f"映射字段 {name} 无取值方式 / mapping field {name} names no column")
        return
    raise ConfigError(f"映射字段 {name} 格式错误 / mapping field {name}: bad spec {spec!r}")


def mapping_from_dict(data: dict[str, Any]) -> Mapping:
    if not isinstance(data, dict):
        raise ConfigError("映射文件须为字典 / a mapping must be a YAML mapping")
    fields = data.get("fields") or {}
    if not isinstance(fields, dict):
        raise ConfigError("映射 fields 须为字典 / mapping 'fields' must be a mapping")
    for name, spec in fields.items():
        if name not in FIELDS:
            raise ConfigError(f"未知字段 / unknown field '{name}' (known: {', '.join(FIELDS)})")
        _check_spec(name, spec)
    fmt = data.get("format")
    if fmt is not None and fmt not in ("jsonl", "csv", "xlsx"):
        raise ConfigError(f"未知格式 / unknown format '{fmt}' (jsonl, csv, xlsx)")
    tz = data.get("timezone")
    if tz:
        try:
            ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"未知时区 / unknown time zone '{tz}'") from exc
    return Mapping(
        name=str(data.get("name") or "custom"),
        format=fmt,
        platform=data.get("platform"),
        lang=data.get("lang"),
        timezone=tz,
        fields=dict(fields),
        extra=[str(c) for c in data.get("extra") or []],
        required=[str(c) for c in data.get("required") or []],
        source=dict(data.get("source") or {}),
    )


def shipped_mappings() -> list[str]:
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))


def load_mapping(ref: str | dict[str, Any] | None) -> Mapping:
    """A mapping by shipped name (``cfpb``), by path, or inline (dict); ``None`` is the identity."""
    if ref is None or ref == "":
        return Mapping()
    if isinstance(ref, dict):
        return mapping_from_dict(ref)
    path = Path(ref)
    if not path.is_file():
        candidate = MAPPINGS_DIR / f"{ref}.yaml"
        if not candidate.is_file():
            known = ", ".join(shipped_mappings())
            raise ConfigError(f"找不到映射 / no mapping '{ref}' (shipped: {known}; or give a path)")
        path = candidate
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"映射文件无法读取 / cannot read mapping {path}: {exc}") from exc
    mapping = mapping_from_dict(data)
    if mapping.name == "custom":
        mapping.name = path.stem
    return mapping


def _lookup(row: dict[str, Any], column: str) -> Any:
    if column in row:
        return row[column]
    if "." in column:
        value: Any = row
        for part in column.split("."):
            if isinstance(value, dict) and part in value:
                value = value[part]
            else:
                return None
        return value
    return None


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def resolve(spec: Any, row: dict[str, Any]) -> Any:
    """The value a spec takes for a row (``None`` when empty)."""
    if spec is None:
        return None
    if isinstance(spec, str):
        value = _lookup(row, spec)
        return None if _empty(value) else value
    if isinstance(spec, list):
        for s in spec:
            value = resolve(s, row)
            if not _empty(value):
                return value
        return None
    if "const" in spec:
        return spec["const"]
    if "join" in spec:
        parts = [resolve(s, row) for s in spec["join"]]
        joined = str(spec.get("sep", " ")).join(str(p).strip() for p in parts if not _empty(p))
        return joined or None
    if "template" in spec:
        try:
            text = str(spec["template"]).format_map(_Strict(row))
        except (KeyError, ValueError, IndexError):
            return None
        return text or None
    columns = spec.get("columns") or [spec["column"]]
    return resolve(list(columns), row)


class _Strict(dict[str, Any]):
    def __init__(self, row: dict[str, Any]) -> None:
        super().__init__(row)

    def __missing__(self, key: str) -> Any:
        raise KeyError(key)

    def __getitem__(self, key: str) -> Any:
        value = _lookup(self, key) if key not in dict(self) else dict.__getitem__(self, key)
        if _empty(value):
            raise KeyError(key)
        return value


def apply_mapping(mapping: Mapping, row: dict[str, Any], *, index: int | None = None) -> ItemDraft:
    """One row -> one draft; raises :class:`ItemError` for a row the mapping cannot use."""
    if not isinstance(row, dict):
        raise ItemError(
            "not_an_object", f"第 {index} 行不是对象 / row {index} is not an object", {"row": row}
        )
    specs = mapping.fields or _IDENTITY
    values: dict[str, Any] = {}
    if specs is _IDENTITY:  # fast path: columns named like the fields
        for name in FIELDS:
            value = row.get(name)
            values[name] = None if _empty(value) else value
    else:
        for name, spec in specs.items():
            values[name] = resolve(spec, row)
    for name in mapping.required:
        if _empty(values.get(name)):
            raise ItemError("missing_field", f"缺少必填字段 / missing required field '{name}'", row)
    published = values.get("published")
    fmt = specs.get("published", {}).get("format") if isinstance(specs.get("published"), dict) else None
    if fmt and isinstance(published, str):
        try:
            naive = datetime.strptime(published.strip(), fmt)
        except ValueError as exc:
            raise ItemError(
                "bad_date", f"日期格式不符 / date {published!r} does not match {fmt}", row
            ) from exc
        published = (
            naive.replace(tzinfo=ZoneInfo(mapping.timezone)) if mapping.timezone else naive.isoformat()
        )
    extra = {col: row.get(col) for col in mapping.extra if not _empty(row.get(col))}
    if index is not None:
        extra["row"] = index
    ext = values.get("external_id")
    return ItemDraft(
        title=str(values.get("title") or ""),
        text=str(values.get("text") or ""),
        url=str(values["url"]) if values.get("url") else None,
        external_id=str(ext).strip() if not _empty(ext) else None,
        author=str(values["author"]) if not _empty(values.get("author")) else None,
        author_followers=values.get("author_followers"),
        published=published,
        reposts=values.get("reposts"),
        comments=values.get("comments"),
        likes=values.get("likes"),
        views=values.get("views"),
        platform=str(values.get("platform") or mapping.platform or "") or None,
        lang=str(values.get("lang") or mapping.lang or "") or None,
        extra=extra,
    )
