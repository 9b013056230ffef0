"""PDF with reportlab (pure Python): the CJK TrueType font registered and embedded (subset).

Why reportlab: it is pure Python (no Cairo/Pango system libraries as WeasyPrint needs), embeds a
TrueType font subset so the PDF shows Chinese on any reader, and its text extracts cleanly.
reportlab reads TrueType outlines only (not the CFF outlines of Noto Sans CJK), so the font is the
first installed CJK font with ``glyf`` outlines (WenQuanYi Micro Hei from ``fonts-wqy-microhei``);
when none is installed it falls back to the Adobe CID font STSong-Light, which is not embedded
(readers substitute their own Song face).
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from matplotlib import font_manager
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import Table as RLTable

from yuqing.reports.charts import PROBE, has_glyphs
from yuqing.reports.document import DRAFT_LABEL, Bullets, Chart, Document, Paragraph, Quote, Table
from yuqing.reports.service import local

CID_FALLBACK = "STSong-Light"


def _truetype(path: str, index: int) -> bool:
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(path, fontNumber=index, lazy=True)
    except Exception:
        return False
    try:
        return "glyf" in font
    finally:
        font.close()


@functools.lru_cache(maxsize=4)
def pdf_font(preferred: tuple[str, ...]) -> tuple[str, bool]:
    """Register and return (font name, embedded) for PDF text."""
    from reportlab.pdfbase.ttfonts import TTFont

    entries = font_manager.fontManager.ttflist
    names = [*preferred, *sorted({e.name for e in entries if "CJK" in e.name or "Hei" in e.name})]
    for name in names:
        for e in entries:
            idx = getattr(e, "index", 0) or 0
            if e.name == name and _truetype(e.fname, idx) and has_glyphs(e.fname, PROBE, idx):
                reg = "yuqing-cjk-" + "".join(c for c in e.name if c.isalnum())
                pdfmetrics.registerFont(TTFont(reg, e.fname, subfontIndex=idx))
                return reg, True
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    return CID_FALLBACK, False


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    common: dict[str, Any] = {"fontName": font, "wordWrap": "CJK"}
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontSize=20, leading=28, **common),
        "subtitle": ParagraphStyle(
            "st", parent=base["Normal"], alignment=TA_CENTER, textColor=colors.grey, **common
        ),
        "h1": ParagraphStyle(
            "h1",
            parent=base["Heading1"],
            fontSize=15,
            leading=20,
            textColor=colors.HexColor("#b22222"),
            **common,
        ),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontSize=12.5, leading=17, **common),
        "body": ParagraphStyle("b", parent=base["Normal"], fontSize=10, leading=15, **common),
        "note": ParagraphStyle(
            "n", parent=base["Normal"], fontSize=8.5, leading=12, textColor=colors.grey, **common
        ),
        "draft": ParagraphStyle(
            "d",
            parent=base["Normal"],
            fontSize=10,
            leading=15,
            textColor=colors.HexColor("#7a5200"),
            backColor=colors.HexColor("#fffbea"),
            **common,
        ),
        "quote": ParagraphStyle(
            "q",
            parent=base["Normal"],
            fontSize=10,
            leading=15,
            leftIndent=12,
            textColor=colors.HexColor("#333333"),
            **common,
        ),
        "cell": ParagraphStyle("c", parent=base["Normal"], fontSize=8.5, leading=11.5, **common),
        "cellh": ParagraphStyle(
            "ch", parent=base["Normal"], fontSize=8.5, leading=11.5, textColor=colors.black, **common
        ),
        "mark": ParagraphStyle(
            "m",
            parent=base["Normal"],
            fontSize=11,
            alignment=TA_CENTER,
            textColor=colors.HexColor("#b22222"),
            **common,
        ),
    }


def _p(text: str, style: ParagraphStyle) -> RLParagraph:
    """reportlab parses a mini-markup: ingested text is escaped first."""
    clean = "".join(ch for ch in text if ch in "\t\n" or ord(ch) >= 0x20)
    return RLParagraph(escape(clean).replace("\n", "<br/>"), style)


def _display_len(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def column_widths(block: Table, width: float) -> list[float]:
    """Widths in proportion to each column's longest cell (bounded), so short columns stay narrow."""
    n = len(block.headers)
    weights = []
    for j in range(n):
        longest = max((_display_len(row[j]) for row in block.rows), default=0)
        header = _display_len(block.headers[j])
        weights.append(min(max(longest, (header + 1) // 2 + 2, 8), 48))
    total = sum(weights)
    return [width * w / total for w in weights]


def _table(block: Table, st: dict[str, ParagraphStyle], width: float) -> list[Any]:
    out: list[Any] = []
    if block.caption:
        out.append(_p(block.caption, st["h2"]))
    data = [[_p(h, st["cellh"]) for h in block.headers]]
    data += [[_p(c, st["cell"]) for c in row] for row in block.rows]
    t = RLTable(data, colWidths=column_widths(block, width), repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    out.append(t)
    out.append(Spacer(1, 6))
    return out


def build(doc: Document, *, fonts: tuple[str, ...], timezone: str = "Asia/Shanghai") -> bytes:
    font, _embedded = pdf_font(fonts)
    st = _styles(font)
    buf = io.BytesIO()
    width = A4[0] - 4 * cm

    def on_page(canvas: Any, template: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawString(2 * cm, A4[1] - 1.2 * cm, f"{doc.organisation}  {doc.classification}")
        canvas.drawCentredString(
            A4[0] / 2, 1.2 * cm, f"第 {canvas.getPageNumber()} 页 / page {canvas.getPageNumber()}"
        )
        canvas.restoreState()

    pdf = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=2 * cm,
        bottomMargin=2 * cm,
        title=doc.title,
        author=doc.organisation,
        subject=doc.subtitle,
        creator="yuqing",
    )
    story: list[Any] = [
        Spacer(1, 3 * cm),
        _p(doc.organisation, st["mark"]),
        Spacer(1, 0.6 * cm),
        _p(doc.title, st["title"]),
        _p(doc.subtitle, st["subtitle"]),
        Spacer(1, 1 * cm),
    ]
    if doc.meta:
        story += _table(Table(("项目 / item", "内容 / value"), tuple(doc.meta)), st, width)
    story += [Spacer(1, 1 * cm), _p(doc.classification, st["mark"])]
    if doc.kind == "review":
        story.append(PageBreak())  # a formal review has a cover page of its own
    if doc.summary:
        story.append(_p("摘要 / Summary", st["h1"]))
        story += [_p(para, st["body"]) for para in doc.summary.split("\n\n")]
    if doc.draft:
        story.append(_p(DRAFT_LABEL, st["draft"]))
        story += [_p(line, st["draft"]) for line in doc.draft.splitlines() if line.strip()]
    for s in doc.sections:
        heading = _p(s.heading, st["h1"] if s.level <= 1 else st["h2"])
        first = True
        for block in s.blocks:
            flow: list[Any]
            if isinstance(block, Paragraph):
                flow = [_p(block.text, st["note"] if block.style == "note" else st["body"])]
            elif isinstance(block, Bullets):
                flow = [_p(f"• {item}", st["body"]) for item in block.items]
            elif isinstance(block, Quote):
                flow = [
                    _p(f"“{block.text}”", st["quote"]),
                    _p(f"—— {block.source}" + (f"  {block.url}" if block.url else ""), st["note"]),
                ]
            elif isinstance(block, Table):
                flow = _table(block, st, width)
            elif isinstance(block, Chart):
                img = Image(io.BytesIO(block.png))
                ratio = img.imageHeight / img.imageWidth
                img.drawWidth, img.drawHeight = width, width * ratio
                flow = [img, _p(block.title, st["note"])]
            else:
                flow = []
            if first:
                story.append(KeepTogether([heading, *flow[:1]]))
                story += flow[1:]
                first = False
            else:
                story += flow
        if first:
            story.append(heading)
    story += [
        Spacer(1, 12),
        _p(f"生成于 / generated {local(doc.generated_at, timezone)} · yuqing", st["note"]),
    ]
    pdf.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()


def write(doc: Document, path: Path, *, fonts: tuple[str, ...], timezone: str = "Asia/Shanghai") -> Path:
    path.write_bytes(build(doc, fonts=fonts, timezone=timezone))
    return path
