"""A format-neutral document: what the HTML, DOCX and PDF renderers all draw from.

Builders (briefs, event report, review report) turn facts into a :class:`Document`; each renderer
walks the same sections and blocks, so the three formats always say the same thing.
All text here is plain (unescaped) text; every renderer escapes it for its own format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: str = "normal"  # normal | note | draft | lead


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Quote:
    text: str
    source: str  # "source · author · time"
    url: str | None = None


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    links: tuple[str | None, ...] = ()  # optional URL per row, rendered on the first cell


@dataclass(frozen=True)
class Chart:
    title: str
    png: bytes
    alt: str = ""


Block = Paragraph | Bullets | Quote | Table | Chart


@dataclass
class Section:
    heading: str
    blocks: list[Block] = field(default_factory=list)
    level: int = 1


@dataclass
class Document:
    kind: str  # brief | event | review
    title: str
    subtitle: str
    organisation: str
    classification: str
    generated_at: datetime
    meta: list[tuple[str, str]] = field(default_factory=list)  # cover facts: (label, value)
    summary: str = ""  # the lead paragraph (extractive)
    sections: list[Section] = field(default_factory=list)
    draft: str | None = None  # wording drafted by a local language model, shown marked as a draft
    filename_stem: str = "document"

    def headings(self) -> list[str]:
        return [s.heading for s in self.sections]


DRAFT_LABEL = (
    "【草稿 · 由本地语言模型起草，未经核实，不得直接对外使用】/ DRAFT by a local language model — verify"
)
