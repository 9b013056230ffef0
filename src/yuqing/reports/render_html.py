"""Self-contained HTML: CSS inline, charts inline as base64 PNG, every text autoescaped."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import urlsplit

from yuqing.reports.document import DRAFT_LABEL, Document
from yuqing.reports.service import local
from yuqing.reports.templating import render_html as _render


def safe_url(url: str | None) -> bool:
    """Only absolute http(s) links become hrefs (never javascript:, data: and the like)."""
    if not url:
        return False
    parts = urlsplit(url.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def render(doc: Document, *, template_dir: str | None = None, timezone: str = "Asia/Shanghai") -> str:
    return _render(
        template_dir,
        f"{doc.kind}.html.j2",
        doc=doc,
        draft_label=DRAFT_LABEL,
        kind_of=lambda block: type(block).__name__,
        safe_url=safe_url,
        b64=lambda data: base64.b64encode(data).decode("ascii"),
        generated=local(doc.generated_at, timezone),
    )


def write(
    doc: Document, path: Path, *, template_dir: str | None = None, timezone: str = "Asia/Shanghai"
) -> Path:
    path.write_text(render(doc, template_dir=template_dir, timezone=timezone), encoding="utf-8")
    return path
