"""Text normalisation: HTML to clean text, a content hash, and a cheap language guess.

``clean_text`` removes markup with lxml (script, style, noscript, template, iframe dropped
with their content; block elements become line breaks), decodes entities, turns full-width
letters and digits into ASCII, removes zero-width and control characters, and collapses
whitespace.
``content_hash`` is the SHA-256 of the normalised text (whitespace and case folded) so that
trivial re-spacing does not defeat exact dedup.
"""

from __future__ import annotations

import hashlib
import html
import re

import lxml.html
from lxml import etree

_TAG_HINT = re.compile(r"<\s*(?:[a-zA-Z][a-zA-Z0-9]*|!--|/\s*[a-zA-Z])[^>]*>")
_SPACES = re.compile(r"[ \t\u00a0\u3000\u2000-\u200a\u202f\u205f]+")
_NEWLINES = re.compile(r"\s*\n\s*")
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "head")
_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "blockquote",
        "pre",
        "table",
        "ul",
        "ol",
        "header",
        "footer",
    ]
)


def _strip_html(raw: str) -> str:
    try:
        root = lxml.html.fragment_fromstring(raw, create_parent="div")
    except (etree.ParserError, ValueError):
        return _TAG_HINT.sub(" ", raw)
    for bad in root.iter(*_DROP_TAGS):
        bad.drop_tree() if bad.getparent() is not None else None
    for el in root.iter(etree.Comment):
        if el.getparent() is not None:
            el.drop_tree()
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.lower() in _BLOCK_TAGS:
            el.tail = "\n" + (el.tail or "")
    return str(root.text_content())


_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u200e\u200f\u2060-\u2064\ufeff\u00ad\u180e]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")
_FULLWIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def _halfwidth(m: re.Match[str]) -> str:
    return chr(ord(m.group(0)) - 0xFEE0)


def clean_text(value: str | None) -> str:
    """Plain, normalised text from HTML or text (never raises on odd input).

    Full-width letters and digits become ASCII (ＡＢＣ１２３ -> ABC123); Chinese full-width
    punctuation is kept as written.
    """
    if not value:
        return ""
    text = value
    if "<" in text and _TAG_HINT.search(text):
        text = _strip_html(text)
    if "&" in text:
        text = html.unescape(text)
    printable = text.isprintable()  # no control, zero-width or line-break characters
    if not text.isascii():
        if not printable:
            text = _ZERO_WIDTH.sub("", text)
        text = _FULLWIDTH.sub(_halfwidth, text)
    if not printable:
        text = _CONTROL.sub(" ", text)
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", text)
    if not printable and "\n" in text:
        text = _NEWLINES.sub("\n", text)
    return text.strip()


def hash_key(title: str, text: str) -> str:
    """The string the content hash is taken over (title + text, whitespace removed, case folded)."""
    return "".join(f"{title}\n{text}".split()).casefold()


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(hash_key(title, text).encode("utf-8", "surrogatepass")).hexdigest()


_NOT_LATIN = bytes(b for b in range(256) if not (65 <= b <= 90 or 97 <= b <= 122))
_NOT_CJK_LEAD = bytes(b for b in range(256) if not 0xE4 <= b <= 0xE9)  # UTF-8 leads of U+4000-U+9FFF


def guess_lang(text: str) -> str:
    """``zh`` / ``en`` / ``other`` from the share of CJK and Latin letters (cheap; analysis refines).

    Counts on the UTF-8 bytes of the first 300 characters: ASCII letters, and lead bytes of the
    main CJK ideograph block (U+4000-U+9FFF).
    """
    sample = text[:300]
    raw = sample.encode("utf-8", "surrogatepass")
    cjk = len(raw.translate(None, _NOT_CJK_LEAD))
    latin = len(raw.translate(None, _NOT_LATIN))
    if cjk and (cjk * 3 >= latin or cjk / (cjk + latin) >= 0.3):
        return "zh"
    visible = len(sample) - sample.count(" ")
    if latin and latin >= 0.5 * visible:
        return "en"
    return "other"
