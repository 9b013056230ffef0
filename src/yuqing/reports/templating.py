"""Jinja2 templates, shipped in ``templates/``, replaceable one by one via ``settings.reports.template_dir``.

``*.html.j2`` are rendered with autoescape on (ingested text is untrusted); ``*.txt.j2`` produce the
plain-text wording (summaries, letterhead) that every format uses and escapes for itself.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from yuqing.errors import ConfigError

SHIPPED = Path(__file__).resolve().parent / "templates"


@functools.lru_cache(maxsize=16)
def environment(template_dir: str | None, html: bool) -> Environment:
    loaders = []
    if template_dir:
        if not Path(template_dir).is_dir():
            raise ConfigError(f"模板目录不存在 / template_dir not found: {template_dir}")
        loaders.append(FileSystemLoader(template_dir))
    loaders.append(FileSystemLoader(str(SHIPPED)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        # Plain-text templates (wording) are escaped by each renderer for its own format.
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True)  # noqa: S701
        if html
        else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["pct"] = lambda v, signed=False: "—" if v is None else (f"{v:+.1%}" if signed else f"{v:.1%}")
    return env


def render_text(template_dir: str | None, name: str, **context: Any) -> str:
    """A plain-text template: lines are joined (no spaces: Chinese), blank lines separate paragraphs."""
    text = environment(template_dir, False).get_template(name).render(**context)
    paras = ["".join(line.strip() for line in p.splitlines()) for p in text.split("\n\n")]
    return "\n\n".join(p for p in paras if p)


def render_html(template_dir: str | None, name: str, **context: Any) -> str:
    return environment(template_dir, True).get_template(name).render(**context)
