"""Charset detection: real GBK / GB18030 / Big5 / UTF-8 bodies, with headers and <meta> that lie."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing.sources.charset import cjk_score, decode, decode_bytes, normalise_name, sniff_declared

ZH = "中国工商银行手续费争议：客户投诉被多收取年费，银行回应称将核查。网友表示不满，要求退还费用。"
TW = "中國工商銀行手續費爭議：客戶投訴被多收取年費，銀行回應稱將核查。網友表示不滿，要求退還費用。"
RARE = "𠀀𠀁€"  # only in GB18030 (four-byte sequences), not in GBK
RU = "Банк повысил комиссию за обслуживание счетов, клиенты жалуются"


def page(body: bytes, meta: bytes = b"") -> bytes:
    return b"<html><head>" + meta + b"<title>t</title></head><body><p>" + body + b"</p></body></html>"


CASES = [
    # (id, body, declared header, expected encoding, expected text fragment)
    ("gbk-header-utf8", page(ZH.encode("gbk")), "utf-8", "gb18030", ZH),
    ("gbk-header-latin1", page(ZH.encode("gbk")), "iso-8859-1", "gb18030", ZH),
    ("gbk-header-ctype", page(ZH.encode("gbk")), "text/html; charset=UTF-8", "gb18030", ZH),
    ("gbk-meta-utf8", page(ZH.encode("gbk"), b'<meta charset="utf-8">'), None, "gb18030", ZH),
    ("gbk-honest", page(ZH.encode("gbk")), "GBK", "gb18030", ZH),
    ("gb2312-widened", page((ZH + RARE).encode("gb18030")), "gb2312", "gb18030", ZH + RARE),
    ("gb18030-no-header", page((ZH + RARE).encode("gb18030")), None, "gb18030", ZH + RARE),
    ("big5-header-gbk", page(TW.encode("big5")), "gbk", "big5", TW),
    ("big5-header-utf8", page(TW.encode("big5")), "utf-8", "big5", TW),
    (
        "big5-meta-gb2312",
        page(TW.encode("big5"), b'<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'),
        None,
        "big5",
        TW,
    ),
    ("big5-no-header", page(TW.encode("big5")), None, "big5", TW),
    ("utf8-header-gbk", page(ZH.encode("utf-8")), "gbk", "utf-8", ZH),
    ("utf8-header-big5", page(TW.encode("utf-8")), "big5", "utf-8", TW),
    ("utf8-honest", page(ZH.encode("utf-8")), "utf-8", "utf-8", ZH),
    ("utf8-bom-header-gbk", b"\xef\xbb\xbf" + page(ZH.encode("utf-8")), "gbk", "utf-8", ZH),
    ("utf16-bom", b"\xff\xfe" + ZH.encode("utf-16-le"), "gbk", "utf-16-le", ZH),
    (
        "xml-decl-gbk",
        b'<?xml version="1.0" encoding="GBK"?><r>' + ZH.encode("gbk") + b"</r>",
        None,
        "gb18030",
        ZH,
    ),
    ("latin1-honest", page("café résumé naïve".encode("latin-1")), "iso-8859-1", "iso8859-1", "café résumé"),
    ("latin1-undeclared", page("café résumé naïve".encode("latin-1")), None, "cp1252", "café résumé"),
    ("ascii-header-gbk", page(b"plain ascii"), "gbk", "gb18030", "plain ascii"),
    ("gbk-truncated", ZH.encode("gbk")[:-1], "utf-8", "gb18030", ZH[:-2]),
    # 专 in GBK is D7 A8, which is also valid UTF-8 (the Hebrew ר): the document's own declaration wins
    (
        "gbk-short-valid-utf8-header-utf8",
        b'<?xml version="1.0" encoding="gb18030"?><t>\xd7\xa8</t>',
        "utf-8",
        "gb18030",
        "专",
    ),
    (
        "gbk-short-valid-utf8-no-header",
        b'<?xml version="1.0" encoding="GBK"?><t>\xd7\xa8</t>',
        None,
        "gb18030",
        "专",
    ),
    (
        "utf8-short-declared-gbk",
        '<?xml version="1.0" encoding="GBK"?><t>专</t>'.encode(),
        None,
        "utf-8",
        "专",
    ),
    # ... but a header alone does not get that benefit, nor does a long text that reads as rare Han
    ("utf8-cyrillic-header-gbk", page(RU.encode()), "gbk", "utf-8", RU),
    ("utf8-cyrillic-meta-gbk", page(RU.encode(), b'<meta charset="gbk">'), None, "utf-8", RU),
]


@pytest.mark.parametrize(
    ("body", "declared", "encoding", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_decode_bytes_gets_the_right_charset(
    body: bytes, declared: str | None, encoding: str, fragment: str
) -> None:
    text, used = decode_bytes(body, declared)
    assert used == encoding
    assert fragment in text


def test_empty_body() -> None:
    assert decode_bytes(b"") == ("", "utf-8")
    assert decode(b"").method == "empty"


def test_undecodable_bytes_fall_back_to_utf8_with_replacement_and_say_so() -> None:
    result = decode(bytes(range(128, 256)) * 3)
    assert result.lossy or result.encoding != "utf-8"
    assert isinstance(result.text, str) and result.text


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("GBK", "gb18030"),
        ("gb2312", "gb18030"),
        ("x-gbk", "gb18030"),
        ("cp936", "gb18030"),
        ("text/html; charset=GB2312", "gb18030"),
        ("Big5", "big5"),
        ("UTF8", "utf-8"),
        ("no-such-charset", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_name(declared: str | None, expected: str | None) -> None:
    assert normalise_name(declared) == expected


def test_sniff_declared() -> None:
    assert sniff_declared(b'<html><meta charset="gbk">') == "gbk"
    assert sniff_declared(b'<?xml version="1.0" encoding="big5"?><rss/>') == "big5"
    assert sniff_declared(b"<html></html>") is None


def test_cjk_score_separates_real_text_from_misreadings() -> None:
    assert cjk_score(ZH) > 0.9
    assert cjk_score(TW) > 0.9
    assert cjk_score(TW.encode("big5").decode("gb18030")) < 0.8


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=400),
    st.one_of(st.none(), st.sampled_from(["utf-8", "gbk", "big5", "latin-1", "utf-16", "bogus"])),
)
def test_decode_never_raises(body: bytes, declared: str | None) -> None:
    text, encoding = decode_bytes(body, declared)
    assert isinstance(text, str)
    assert isinstance(encoding, str) and encoding


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=12, max_size=60))
def test_utf8_chinese_round_trips_whatever_the_header_says(text: str) -> None:
    decoded, encoding = decode_bytes(text.encode("utf-8"), "gbk")
    assert encoding == "utf-8"
    assert decoded == text
