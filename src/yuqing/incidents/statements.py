"""Statement drafts from templates (pure): sandboxed Jinja2, filled from the incident's facts.

Templates are ``<kind>.<lang>.txt.j2`` (plain text) in the shipped ``templates/`` directory or in
``settings.incidents.templates_dir``, which overrides them file by file. They run in Jinja2's
sandbox (a template edited by a user cannot reach Python internals), with ``StrictUndefined`` so a
missing fact is an error rather than a silent blank. Statement text is plain text; HTML output
(:func:`to_html`) escapes everything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from yuqing.core.contracts import LEVEL_NAMES_ZH
from yuqing.errors import NotFound, ValidationError

STATEMENT_KINDS = {
    "holding": ("简要声明（首小时）", "holding statement"),
    "full": ("完整声明", "full statement"),
    "clarification": ("澄清说明", "clarification"),
    "regulator_report": ("监管报告", "report to the regulator"),
}
LANGS = ("zh", "en")


@dataclass(frozen=True)
class StatementFacts:
    """What a statement may say, taken from the incident (all values are plain text)."""

    firm: str
    subject: str
    summary: str
    level: str
    opened_at: str
    date: str
    hotline: str
    facts: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    def as_context(self) -> dict[str, Any]:
        ctx: dict[str, Any] = dict(self.extra)
        ctx.update(
            firm=self.firm,
            subject=self.subject,
            summary=self.summary,
            level=self.level,
            level_name=LEVEL_NAMES_ZH.get(self.level, self.level),
            opened_at=self.opened_at,
            date=self.date,
            hotline=self.hotline,
            facts=list(self.facts),
            actions=list(self.actions),
        )
        return ctx


def shipped_templates_dir() -> Path:
    return Path(str(files("yuqing.incidents") / "templates"))


def make_env(templates_dir: str | Path | None = None, *, html: bool = False) -> SandboxedEnvironment:
    loaders = []
    if templates_dir:
        loaders.append(FileSystemLoader(str(templates_dir)))
    loaders.append(FileSystemLoader(str(shipped_templates_dir())))
    return SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=html,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=False,
    )


def template_name(kind: str, lang: str) -> str:
    if kind not in STATEMENT_KINDS:
        raise ValidationError(f"未知声明类型 / unknown statement kind: {kind} ({', '.join(STATEMENT_KINDS)})")
    if lang not in LANGS:
        raise ValidationError(f"未知语言 / unknown language: {lang} (zh, en)")
    return f"{kind}.{lang}.txt.j2"


def render_statement(
    kind: str, facts: StatementFacts, *, lang: str = "zh", templates_dir: str | Path | None = None
) -> str:
    """The draft text of a statement of ``kind`` filled with ``facts``."""
    env = make_env(templates_dir)
    try:
        template = env.get_template(template_name(kind, lang))
        text = template.render(**facts.as_context())
    except TemplateNotFound as exc:
        raise NotFound(f"声明模板不存在 / statement template not found: {exc.name}") from exc
    except TemplateError as exc:
        raise ValidationError(f"声明模板错误 / statement template error: {exc}") from exc
    return normalise_text(text)


def render_string(source: str, facts: StatementFacts) -> str:
    """Render an ad-hoc (user-supplied) template in the sandbox."""
    env = make_env()
    try:
        return normalise_text(env.from_string(source).render(**facts.as_context()))
    except TemplateError as exc:
        raise ValidationError(f"声明模板错误 / statement template error: {exc}") from exc


def normalise_text(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    return "\n".join(out).strip() + "\n"


def title_of(text: str) -> str:
    return text.strip().split("\n", 1)[0].strip()[:300]


def body_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def to_html(text: str) -> Markup:
    """Statement text as HTML paragraphs; every character of the text is escaped."""
    paragraphs = [p for p in text.strip().split("\n\n") if p.strip()]
    parts = []
    for p in paragraphs:
        lines = [str(escape(line)) for line in p.split("\n")]
        parts.append("<p>" + "<br>".join(lines) + "</p>")
    return Markup("\n".join(parts))  # noqa: S704 - built only from escaped text
