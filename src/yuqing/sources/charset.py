"""Charset detection that gets Chinese pages right even when the HTTP header or ``<meta>`` lies.

Order (see docs/fetching.md):

1. a byte-order mark wins;
2. a declared charset (the HTTP header first, then ``<meta charset>`` / the XML declaration) is used
   only if the body decodes with it *without a single error* and the result is *plausible*;
3. otherwise the body is detected: strict UTF-8 first, then GB18030 vs Big5 arbitrated by how
   common the decoded Han characters are, then charset-normalizer;
4. as a last resort UTF-8 with replacement characters (``Decoded.lossy`` says so, and a warning is
   logged).

GBK / GB2312 / CP936 are always widened to GB18030 (a strict superset). The functions never raise.
"""

from __future__ import annotations

import codecs
import functools
import itertools
import logging
import re
from dataclasses import dataclass

log = logging.getLogger(__name__)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CJK = ("gb18030", "big5", "big5hkscs")
_WIDEN = {"gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030", "hz": "gb18030", "big5": "big5"}
_SINGLE_BYTE_PREFIXES = ("latin", "iso8859", "cp125", "ascii", "koi8", "mac", "cp437", "cp850", "tis")
_META_RE = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]{2,40})""", re.I)
_XML_RE = re.compile(rb"""<\?xml[^>]{0,200}?encoding\s*=\s*["']\s*([A-Za-z0-9_.\-]{2,40})""", re.I)
_NON_ASCII = re.compile("[^\x00-\x7f\ufffd]")
_CT_RE = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.I)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # a Python codec name, usable to decode the same bytes again
    method: str  # bom, header, meta, detected, fallback, empty
    lossy: bool = False  # True when replacement characters were needed


def normalise_name(name: str | None) -> str | None:
    """A Python codec name for a declared charset (``text/html; charset=GBK`` works too), widened."""
    if not name:
        return None
    found = _CT_RE.search(name)
    raw = (found.group(1) if found else name).strip().strip("\"'").lower()
    if raw in ("x-gbk", "gb_2312-80", "gb_2312", "csgb2312", "x-euc-cn", "euc-cn", "windows-936"):
        raw = "gbk"
    if raw in ("x-big5", "big5-hkscs", "cp950", "windows-950"):
        raw = "big5"
    try:
        codec = codecs.lookup(raw).name
    except (LookupError, ValueError):
        return None
    return _WIDEN.get(codec, codec)


def sniff_declared(body: bytes) -> str | None:
    """The charset a document declares about itself (``<meta>`` or XML declaration), if any."""
    head = body[:4096]
    for pattern in (_XML_RE, _META_RE):
        found = pattern.search(head)
        if found:
            return found.group(1).decode("ascii", "ignore")
    return None


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _strict_tail(body: bytes, encoding: str) -> str | None:
    """Like :func:`_strict`, but tolerates a multi-byte character cut off at the very end (a body
    truncated at the size limit); the cut tail becomes one replacement character."""
    text = _strict(body, encoding)
    if text is not None:
        return text
    for cut in (1, 2, 3):
        if len(body) > cut and _strict(body[:-cut], encoding) is not None:
            return body.decode(encoding, "replace")
    return None


def _is_han(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2FFFF or 0xF900 <= o <= 0xFAFF


@functools.lru_cache(maxsize=65536)
def _common_han(ch: str) -> bool:
    """In GB2312 level 1 (3,755 most used simplified) or Big5 level 1 (5,401 most used traditional)."""
    try:
        gb = ch.encode("gb2312")
        if len(gb) == 2 and 0xB0 <= gb[0] <= 0xD7:
            return True
    except UnicodeEncodeError:
        pass
    try:
        b5 = ch.encode("big5")
        return len(b5) == 2 and 0xA440 <= (b5[0] << 8 | b5[1]) <= 0xC67E
    except UnicodeEncodeError:
        return False


def _common_punct(ch: str) -> bool:
    o = ord(ch)
    return 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF or 0x2010 <= o <= 0x2027 or o == 0xB7


def cjk_score(text: str) -> float:
    """Share of non-ASCII characters that are common Han characters or CJK punctuation (1.0 = all).

    Real Chinese text scores above 0.9; Big5 read as GBK (or the reverse) scores far lower, because
    it decodes to rare characters, kana, Greek and box-drawing symbols.
    """
    non_ascii = [m.group() for m in itertools.islice(_NON_ASCII.finditer(text, 0, 200_000), 4000)]
    if not non_ascii:
        return 1.0
    good = sum(1 for c in non_ascii if (_is_han(c) and _common_han(c)) or _common_punct(c))
    return good / len(non_ascii)


def _single_byte_plausible(text: str) -> bool:
    """Western text has isolated accented letters ("café"); CJK bytes read as Latin come in runs."""
    non_ascii = 0
    in_runs = 0
    run = 0
    controls = 0
    for ch in [*text[:200_000], " "]:
        if ord(ch) > 0x7F:
            non_ascii += 1
            run += 1
            if 0x80 <= ord(ch) <= 0x9F:
                controls += 1
        else:
            if run >= 2:
                in_runs += run
            run = 0
    if non_ascii == 0:
        return True
    if controls:
        return False
    return non_ascii < 4 or in_runs / non_ascii < 0.5


# Characters of Chinese text needed before character frequencies may overrule a document's own
# GBK/Big5 declaration: a handful of rare characters reads "better" in the other family by chance.
MIN_EVIDENCE = 20


def _plausible(body: bytes, text: str, encoding: str, *, from_document: bool) -> bool:
    if "\x00" in text and encoding.startswith("utf-8"):
        return False
    if encoding.startswith(("utf-16", "utf-32")):
        # A document that says utf-16 about itself in ASCII bytes is not utf-16 (WHATWG rule).
        return not from_document and len(body) % 2 == 0
    if not any(b > 0x7F for b in body):
        return True  # pure ASCII: every ASCII-compatible declaration is fine
    utf8 = _strict(body, "utf-8") if encoding != "utf-8" else None
    if utf8 is not None and not (from_document and encoding in _CJK and _utf8_by_accident(utf8, text)):
        return False  # valid multi-byte UTF-8 by accident is rare, but for a few characters
    if encoding.startswith(_SINGLE_BYTE_PREFIXES):
        return _single_byte_plausible(text)
    if encoding in _CJK:
        # GBK and Big5 byte ranges overlap: a clean decode is not proof. The declaration loses only
        # when the other family reads as clearly more common Chinese.
        own = cjk_score(text)
        if own >= 0.8 or sum(1 for c in text[:200_000] if ord(c) > 0x7F) < MIN_EVIDENCE:
            return True  # reads well, or too little evidence to overrule the declaration
        other = "big5" if encoding == "gb18030" else "gb18030"
        alt = _strict(body, other)
        if alt is None and other == "big5":
            alt = _strict(body, "big5hkscs")
        return alt is None or cjk_score(alt) < max(0.8, own + 0.2)
    return True


def _utf8_by_accident(utf8_text: str, cjk_text: str | None) -> bool:
    """Chinese bytes that also happen to be valid UTF-8: likely in a short text (专 in GBK is D7 A8,
    which is UTF-8 for the Hebrew ר). Said when ``cjk_text`` (the same bytes read with the Chinese
    charset the document names) is Han characters and CJK punctuation only, rare ones included,
    while the UTF-8 reading is made of two-byte sequences only (U+0080-U+07FF: Latin, Greek,
    Cyrillic, Hebrew, ...), which real UTF-8 Chinese, Han or punctuation, never is. Beyond a few
    characters the Chinese reading must also be common Chinese (a Russian UTF-8 page read as GBK is
    rare Han)."""
    if cjk_text is None or any(ord(c) >= 0x800 for c in utf8_text[:200_000]):
        return False
    non_ascii = [m.group() for m in itertools.islice(_NON_ASCII.finditer(cjk_text), 4000)]
    if len(non_ascii) >= MIN_EVIDENCE and cjk_score(cjk_text) < 0.8:
        return False
    return any(_is_han(c) for c in non_ascii) and all(_is_han(c) or _common_punct(c) for c in non_ascii)


def _decode_cjk(body: bytes) -> tuple[str, str] | None:
    best: tuple[float, str, str] | None = None
    for encoding in _CJK:
        text = _strict_tail(body, encoding)
        if text is None:
            continue
        score = cjk_score(text)
        if best is None or score > best[0] + 1e-9:
            best = (score, text, encoding)
    if best is not None and best[0] >= 0.8:
        return best[1], best[2]
    return None


def _detect(body: bytes) -> Decoded | None:
    text = _strict_tail(body, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8", "detected", lossy="\ufffd" in text)
    cjk = _decode_cjk(body)
    if cjk is not None:
        return Decoded(cjk[0], cjk[1], "detected", lossy="\ufffd" in cjk[0])
    text = _strict(body, "cp1252")
    if text is not None and _single_byte_plausible(text):
        return Decoded(text, "cp1252", "detected")
    try:
        from charset_normalizer import from_bytes

        match = from_bytes(body).best()
    except Exception:  # the detector must never take the caller down
        log.debug("charset-normalizer failed", exc_info=True)
        match = None
    if match is not None and match.encoding:
        encoding = normalise_name(match.encoding) or match.encoding
        text = _strict(body, encoding)
        if text is not None:
            return Decoded(text, encoding, "detected")
    return None


def decode(body: bytes, declared: str | None = None) -> Decoded:
    """Decode ``body``; ``declared`` is the HTTP charset (or a whole Content-Type value)."""
    try:
        return _decode(bytes(body or b""), declared)
    except Exception:  # pragma: no cover - defensive: never raise
        log.warning("charset detection failed; decoding as utf-8 with replacement", exc_info=True)
        return Decoded(bytes(body or b"").decode("utf-8", "replace"), "utf-8", "fallback", lossy=True)


def _decode(body: bytes, declared: str | None) -> Decoded:
    if not body:
        return Decoded("", "utf-8", "empty")
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            text = body[len(bom) :].decode(encoding, "replace")
            return Decoded(text, encoding, "bom", lossy="\ufffd" in text)
    own = normalise_name(sniff_declared(body))
    candidates: list[tuple[str | None, str, bool]] = [
        (normalise_name(declared), "header", False),
        (own, "meta", True),
    ]
    for name, method, from_document in candidates:
        if name is None:
            continue
        encoding = name
        candidate = _strict(body, encoding)
        if candidate is None and encoding == "big5":
            encoding, candidate = "big5hkscs", _strict(body, "big5hkscs")
        if candidate is None or not _plausible(body, candidate, encoding, from_document=from_document):
            continue
        if (
            encoding == "utf-8"
            and not from_document
            and own in _CJK
            and _utf8_by_accident(candidate, _strict(body, own))
        ):
            continue  # a charset=utf-8 header over a document that says (and reads as) GBK / Big5
        return Decoded(candidate, encoding, method)
    detected = _detect(body)
    if detected is not None:
        return detected
    log.warning("no charset decodes this body cleanly; using utf-8 with replacement characters")
    return Decoded(body.decode("utf-8", "replace"), "utf-8", "fallback", lossy=True)


def decode_bytes(body: bytes, declared: str | None = None) -> tuple[str, str]:
    """``(text, encoding used)``; never raises. See :func:`decode` for the method and lossiness."""
    result = decode(body, declared)
    return result.text, result.encoding
