"""Writing a document in the asked formats, and the optional local-language-model draft hook."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import httpx

from yuqing.core.context import AppContext
from yuqing.errors import ValidationError
from yuqing.reports.document import Document

FORMATS = ("html", "docx", "pdf")


def parse_formats(value: str | Sequence[str] | None, default: Sequence[str] = FORMATS) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value or default)
    out = []
    for f in (i.strip().lower() for i in items):
        if not f:
            continue
        if f not in FORMATS:
            raise ValidationError(f"未知格式 / unknown format: {f} (html, docx, pdf)")
        if f not in out:
            out.append(f)
    if not out:
        raise ValidationError("未指定格式 / no format given (html, docx, pdf)")
    return out


def safe_stem(stem: str) -> str:
    return re.sub(r"[^\w.-]+", "_", stem, flags=re.UNICODE).strip("._") or "document"


def write_documents(ctx: AppContext, doc: Document, formats: Sequence[str], out_dir: Path) -> list[Path]:
    """Write ``doc`` as each format into ``out_dir``; returns the paths in the order asked."""
    from yuqing.reports import render_docx, render_html, render_pdf

    cfg = ctx.settings.reports
    tz = ctx.settings.timezone
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = safe_stem(doc.filename_stem)
    paths = []
    for fmt in formats:
        path = out_dir / f"{stem}.{fmt}"
        if fmt == "html":
            render_html.write(doc, path, template_dir=cfg.template_dir, timezone=tz)
        elif fmt == "docx":
            render_docx.write(doc, path, east_asia_font=cfg.docx_east_asia_font, timezone=tz)
        else:
            render_pdf.write(doc, path, fonts=tuple(cfg.fonts), timezone=tz)
        paths.append(path)
    return paths


def draft_wording(ctx: AppContext, facts_text: str) -> str | None:
    """Ask the configured LOCAL language model to word the facts; None when none is configured.

    The model only rephrases the extractive facts it is given; its output is shown marked as a draft
    (``Document.draft``) next to — never instead of — the factual summary. Failures are not fatal.
    """
    cfg = ctx.settings.reports
    if not cfg.llm_url:
        return None
    url = cfg.llm_url.rstrip("/") + "/chat/completions"
    body = {
        "model": cfg.llm_model,
        "temperature": 0,
        "messages": [
            {
                "role": "system",
                "content": "你是银行舆情分析员。只根据给出的事实撰写简洁的中文摘要，"
                "不得添加任何未给出的事实或数字。",
            },
            {"role": "user", "content": facts_text},
        ],
    }
    try:
        resp = httpx.post(url, json=body, timeout=cfg.llm_timeout_s)
        resp.raise_for_status()
        text = resp.json()["choices"][0]["message"]["content"]
    except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError):
        return None
    return str(text).strip() or None
