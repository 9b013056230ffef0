"""Word documents (python-docx): Title/Heading styles, real tables, pictures, page numbers in the footer.

Chinese text needs the East-Asian font slot (``w:eastAsia``) set, or Word falls back to a Latin font
for it; we set it on the styles and on every run.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from docx import Document as new_docx
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from yuqing.reports.document import DRAFT_LABEL, Bullets, Chart, Document, Paragraph, Quote, Table
from yuqing.reports.service import local

LATIN_FONT = "Calibri"


def _east_asia(rpr_owner: Any, font: str) -> None:
    """Set ``w:rFonts/@w:eastAsia`` on a run or style element."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), font)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)


def _run(paragraph: Any, text: str, font: str, *, bold: bool = False, size: float | None = None) -> Any:
    run = paragraph.add_run(text)
    run.bold = bold or None
    if size:
        run.font.size = Pt(size)
    _east_asia(run._r, font)
    return run


def _field(paragraph: Any, instr: str, font: str) -> None:
    """A complex field (PAGE, NUMPAGES) Word computes when it lays the document out."""
    run = _run(paragraph, "", font)
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = f" {instr} "
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    value = OxmlElement("w:t")
    value.text = "1"
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for el in (begin, code, sep, value, end):
        run._r.append(el)


def _hyperlink(paragraph: Any, url: str, text: str, font: str) -> None:
    part = paragraph.part
    r_id = part.relate_to(
        url, "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink", is_external=True
    )
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    fonts = OxmlElement("w:rFonts")
    fonts.set(qn("w:eastAsia"), font)
    rpr.append(fonts)
    color = OxmlElement("w:color")
    color.set(qn("w:val"), "1F4E9A")
    rpr.append(color)
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    rpr.append(underline)
    run.append(rpr)
    t = OxmlElement("w:t")
    t.text = text
    t.set(qn("xml:space"), "preserve")
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def _clean(text: str) -> str:
    """XML 1.0 cannot hold most control characters; ingested text may contain them."""
    return "".join(ch for ch in text if ch in "\t\n" or ord(ch) >= 0x20)


def _table(d: Any, block: Table, font: str) -> None:
    from yuqing.reports.render_html import safe_url

    if block.caption:
        p = d.add_paragraph(style="Caption")
        _run(p, _clean(block.caption), font)
    table = d.add_table(rows=1, cols=len(block.headers))
    table.style = "Table Grid"
    for cell, h in zip(table.rows[0].cells, block.headers, strict=True):
        cell.text = ""
        _run(cell.paragraphs[0], _clean(h), font, bold=True, size=9.5)
    for i, row in enumerate(block.rows):
        cells = table.add_row().cells
        link = block.links[i] if block.links else None
        for j, (cell, value) in enumerate(zip(cells, row, strict=True)):
            cell.text = ""
            if j == 0 and link and safe_url(link):
                _hyperlink(cell.paragraphs[0], link, _clean(value), font)
            else:
                _run(cell.paragraphs[0], _clean(value), font, size=9.5)


def build(doc: Document, *, east_asia_font: str = "Microsoft YaHei", timezone: str = "Asia/Shanghai") -> Any:
    from yuqing.reports.render_html import safe_url

    font = east_asia_font
    d = new_docx()
    for name in ("Normal", "Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "Caption", "Quote"):
        try:
            style = d.styles[name]
        except KeyError:
            continue
        _east_asia(style.element, font)
    d.styles["Normal"].font.size = Pt(10.5)
    section = d.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.left_margin = section.right_margin = Cm(2.2)
    # Header: organisation and classification; footer: page X of Y
    header = section.header.paragraphs[0]
    _run(header, _clean(f"{doc.organisation}    {doc.classification}"), font, size=9)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(footer, "第 ", font, size=9)
    _field(footer, "PAGE", font)
    _run(footer, " 页 / 共 ", font, size=9)
    _field(footer, "NUMPAGES", font)
    _run(footer, " 页", font, size=9)

    title = d.add_paragraph(style="Title")
    _run(title, _clean(doc.title), font)
    sub = d.add_paragraph(style="Subtitle")
    _run(sub, _clean(doc.subtitle), font)
    if doc.meta:
        _table(d, Table(("项目 / item", "内容 / value"), tuple((k, v) for k, v in doc.meta)), font)
    if doc.summary:
        h = d.add_heading(level=1)
        _run(h, "摘要 / Summary", font)
        for para in doc.summary.split("\n\n"):
            _run(d.add_paragraph(), _clean(para), font)
    if doc.draft:
        p = d.add_paragraph()
        r = _run(p, DRAFT_LABEL, font, bold=True)
        r.font.color.rgb = RGBColor(0xA0, 0x6B, 0x00)
        for para in doc.draft.splitlines():
            if para.strip():
                r = _run(d.add_paragraph(), _clean(para), font)
                r.italic = True
    for s in doc.sections:
        h = d.add_heading(level=min(max(s.level, 1), 3))
        _run(h, _clean(s.heading), font)
        for block in s.blocks:
            if isinstance(block, Paragraph):
                r = _run(d.add_paragraph(), _clean(block.text), font)
                if block.style == "note":
                    r.font.size = Pt(9)
                    r.font.color.rgb = RGBColor(0x66, 0x66, 0x66)
            elif isinstance(block, Bullets):
                for item in block.items:
                    _run(d.add_paragraph(style="List Bullet"), _clean(item), font)
            elif isinstance(block, Quote):
                p = d.add_paragraph(style="Quote")
                _run(p, _clean(block.text), font)
                src = d.add_paragraph()
                _run(src, _clean(f"—— {block.source}"), font, size=9)
                if block.url and safe_url(block.url):
                    _run(src, "  ", font, size=9)
                    _hyperlink(src, block.url, "原文 / source", font)
            elif isinstance(block, Table):
                _table(d, block, font)
            elif isinstance(block, Chart):
                d.add_picture(io.BytesIO(block.png), width=Cm(16))
                cap = d.add_paragraph(style="Caption")
                _run(cap, _clean(block.title), font)
    end = d.add_paragraph()
    _run(end, f"生成于 / generated {local(doc.generated_at, timezone)} · yuqing", font, size=8)
    return d


def write(
    doc: Document, path: Path, *, east_asia_font: str = "Microsoft YaHei", timezone: str = "Asia/Shanghai"
) -> Path:
    build(doc, east_asia_font=east_asia_font, timezone=timezone).save(str(path))
    return path
