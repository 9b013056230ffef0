"""Pure dedup (MinHash + LSH), column mappings and the file connector's parsers."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing.errors import ConfigError, ParseError
from yuqing.sources.base import RawPayload
from yuqing.sources.connectors.file import FileConnector, iter_payloads
from yuqing.sources.connectors.webhook import WebhookConnector
from yuqing.sources.dedup import NearDupIndex, dedup_key, exact_keys
from yuqing.sources.mapping import apply_mapping, load_mapping, mapping_from_dict

T0 = datetime(2026, 3, 2, tzinfo=UTC)
ORIGINAL = (
    "华信银行信用卡分期宣传0利息，实际每期收0.75%手续费，折算年化接近17%；储蓄卡还悄悄扣小额账户管理费。"
    "有网友在黑猫投诉维权，客服一句系统规定就打发了。"
)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("转发微博 //@财经评论员老K: 华信银行乱收费！", "华信银行乱收费"),
        ("太离谱//@A:我也是//@B:原文内容", "太离谱我也是原文内容"),
        ("RT @someone: Huaxin Bank fees!!! https://t.co/x", "huaxinbankfees"),
        ("回复@小王:同意 😡😡", "同意"),
    ],
)
def test_dedup_key(text: str, key: str) -> None:
    assert dedup_key(text) == key


@pytest.mark.parametrize(
    ("copy", "is_dup"),
    [
        (f"转发微博 //@财经评论员老K: {ORIGINAL}", True),
        (f"太离谱了！//@小王: 我也是 //@财经评论员老K:{ORIGINAL}", True),
        (ORIGINAL.replace("，", "!").replace("。", "～") + "😡😡😡", True),
        (ORIGINAL[:-10] + "大家评评理", True),
        ("华信银行" + ORIGINAL[4:], True),
        (
            "东岳银行发布三季报：净利润同比增长6.1%，不良贷款率1.21%，零售业务表现亮眼，资产质量保持稳定。",
            False,
        ),
        ("华信银行双十二理财节火热进行中，新客专享理财产品业绩比较基准3.5%，限时抢购，欢迎咨询网点。", False),
        ("短文本", False),
    ],
)
def test_near_duplicates(copy: str, is_dup: bool) -> None:
    index = NearDupIndex(threshold=0.7)
    sig = index.signature(ORIGINAL)
    assert sig is not None
    index.add(sig, T0, mention_id=1)
    other = index.signature(copy)
    match = index.find(other) if other is not None else None
    assert (match is not None) == is_dup
    if match is not None:
        assert match.root_mention_id == 1 and 0.7 <= match.similarity <= 1.0


def test_copies_link_to_the_root_never_a_chain() -> None:
    index = NearDupIndex(threshold=0.7)
    root = index.add(index.signature(ORIGINAL), T0, mention_id=10)  # type: ignore[arg-type]
    copy1 = f"转发微博//@A:{ORIGINAL}"
    m1 = index.find(index.signature(copy1))  # type: ignore[arg-type]
    assert m1 is not None and m1.root_slot == root
    index.add(index.signature(copy1), T0, root=m1.root_slot, mention_id=11)  # type: ignore[arg-type]
    m2 = index.find(index.signature(f"再转//@B:转发微博//@A:{ORIGINAL}"))  # type: ignore[arg-type]
    assert m2 is not None and m2.root_mention_id == 10


def test_index_is_bounded_by_size_and_window() -> None:
    index = NearDupIndex(max_items=50, window=timedelta(days=1))
    texts = [
        f"第{i}条完全不同的新闻内容，编号{i * 7919}，关于某地某事的详细报道和评论分析" for i in range(120)
    ]
    for i, sig in enumerate(index.signatures(texts)):
        assert sig is not None
        index.add(sig, T0 + timedelta(minutes=i), mention_id=i)
    assert len(index) == 50
    late = index.signature("另一条足够长的完全不相关的文本内容，用来推动时间窗口向前移动")
    assert late is not None
    index.add(late, T0 + timedelta(days=3))
    assert len(index) == 1  # everything older than the window was evicted


def test_exact_keys_content_key_only_without_ids() -> None:
    assert exact_keys(1, None, None, "a", "h").content == (1, "a", "h")
    assert exact_keys(1, "x", None, "a", "h").content is None
    assert exact_keys(1, None, "https://a/", None, "h").content is None


# --- mappings -------------------------------------------------------------------------------------

CFPB_ROW = {
    "Date received": "2020/3/18",
    "Product": "Debt collection",
    "Sub-product": "I do not know",
    "Issue": "Attempts to collect debt not owed",
    "Sub-issue": "Debt is not yours",
    "Consumer complaint narrative": "",
    "Company": "TRANSWORLD SYSTEMS INC",
    "State": "FL",
    "Complaint ID": "3384392",
}


def test_cfpb_mapping_row_without_narrative_is_still_a_complaint() -> None:
    draft = apply_mapping(load_mapping("cfpb"), CFPB_ROW, index=2)
    assert draft.title == "Debt collection - Attempts to collect debt not owed"
    assert draft.text == "Attempts to collect debt not owed: Debt is not yours"
    assert draft.external_id == "3384392"
    assert draft.author is None
    assert draft.extra["Company"] == "TRANSWORLD SYSTEMS INC"
    assert isinstance(draft.published, datetime) and draft.published.utcoffset() is not None
    assert draft.url is not None and draft.url.endswith("/3384392")
    assert draft.platform == "complaint" and draft.lang == "en"


def test_cfpb_mapping_uses_the_narrative() -> None:
    row = dict(CFPB_ROW, **{"Consumer complaint narrative": "They keep calling me about XXXX."})
    assert apply_mapping(load_mapping("cfpb"), row).text == "They keep calling me about XXXX."


@pytest.mark.parametrize(
    ("spec", "row", "value"),
    [
        ("a", {"a": "x"}, "x"),
        (["a", "b"], {"a": " ", "b": "y"}, "y"),
        ({"columns": ["a", "b"]}, {"b": "z"}, "z"),
        ({"join": ["a", "b"], "sep": "/"}, {"a": "1", "b": "2"}, "1/2"),
        ({"join": ["a", "b"]}, {"a": "1", "b": ""}, "1"),
        ({"const": "weibo"}, {}, "weibo"),
        ({"template": "https://x/{id}"}, {"id": 5}, "https://x/5"),
        ({"template": "https://x/{id}"}, {}, None),
        ("user.name", {"user": {"name": "小王"}}, "小王"),
    ],
)
def test_mapping_specs(spec: object, row: dict, value: object) -> None:
    from yuqing.sources.mapping import resolve

    assert resolve(spec, row) == value


@pytest.mark.parametrize(
    "data",
    [
        {"fields": {"nonsense": "a"}},
        {"fields": {"title": {"bogus": 1}}},
        {"fields": {"title": 5}},
        {"format": "pdf"},
        {"timezone": "Mars/Olympus"},
        ["not", "a", "mapping"],
    ],
)
def test_bad_mappings_are_config_errors(data: object) -> None:
    with pytest.raises(ConfigError):
        mapping_from_dict(data)  # type: ignore[arg-type]


def test_unknown_mapping_name() -> None:
    with pytest.raises(ConfigError):
        load_mapping("no-such-mapping")


# --- file connector -------------------------------------------------------------------------------


class Src:
    def __init__(self, mapping: object = None) -> None:
        self.config = {"mapping": mapping} if mapping else {}
        self.url = None


def _parse(tmp_path: Path, name: str, data: bytes, mapping: object = None, chunk_rows: int = 1000):
    path = tmp_path / name
    path.write_bytes(data)
    conn = FileConnector()
    items, errors = [], []
    payloads = list(iter_payloads(path, chunk_rows=chunk_rows))
    for p in payloads:
        r = conn.parse(Src(mapping), p)
        items += r.items
        errors += r.errors
    return payloads, items, errors


def test_jsonl_bad_lines_are_per_row_errors(tmp_path: Path) -> None:
    data = (
        b'{"title": "ok 1", "text": "first"}\n'
        b"{bad json\n"
        b"[1, 2]\n"
        b"\n"
        b'{"title": "ok 2", "text": "second \xe5\x8d\x8e"}\n'
        b'{"title": "bad bytes \xff\xfe", "text": "x"}\n'
        b'{"title": "truncated'
    )
    payloads, items, errors = _parse(tmp_path, "x.jsonl", data)
    assert [i.title for i in items] == ["ok 1", "ok 2"]
    assert sorted(e.reason for e in errors) == [
        "malformed_json",
        "malformed_json",
        "not_an_object",
        "undecodable",
    ]
    assert all(e.payload and "row" in e.payload for e in errors)
    assert b"".join(p.body for p in payloads) == data  # every byte kept as received


def test_csv_quoted_newlines_wrong_columns_and_chunks(tmp_path: Path) -> None:
    rows = [
        "title,text,external_id",
        '"A, with comma","line one\nline two",1',
        "B,short",
        'C,"ok",3',
        'D,"x",4,extra',
    ]
    rows += [f"T{i},body {i},{i + 10}" for i in range(25)]
    payloads, items, errors = _parse(tmp_path, "x.csv", ("\n".join(rows) + "\n").encode(), chunk_rows=10)
    assert len(payloads) == 3
    assert all(p.body.startswith(b"title,text,external_id") for p in payloads)
    assert items[0].title == "A, with comma" and items[0].text == "line one\nline two"
    assert len(items) == 27
    assert sorted(e.reason for e in errors) == ["wrong_column_count", "wrong_column_count"]
    assert errors[0].payload["row"] == 3


def test_csv_gbk_file_is_decoded(tmp_path: Path) -> None:
    text = "title,text\n华信银行,分期手续费争议\n东岳银行,三季报发布\n"
    _, items, errors = _parse(tmp_path, "gbk.csv", text.encode("gbk") * 1)
    assert not errors
    assert [i.title for i in items] == ["华信银行", "东岳银行"]


def test_csv_truncated_inside_quotes(tmp_path: Path) -> None:
    _, items, errors = _parse(tmp_path, "t.csv", b'title,text\nA,fine\nB,"never closed\n')
    assert [i.title for i in items] == ["A"]
    assert len(errors) == 1


def test_empty_files(tmp_path: Path) -> None:
    _, items, errors = _parse(tmp_path, "e.jsonl", b"")
    assert items == [] and errors == []
    path = tmp_path / "e.csv"
    path.write_bytes(b"")
    (payload,) = list(iter_payloads(path))
    with pytest.raises(ParseError):
        FileConnector().parse(Src(), payload)


def test_xlsx(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["标题", "内容", "编号", "时间"])
    ws.append(["华信银行", "分期手续费", 1, datetime(2026, 3, 1, 10, 0)])
    ws.append([None, None, None, None])
    ws.append(["东岳银行", "三季报", 2, "2026-03-01 11:00"])
    buf = io.BytesIO()
    wb.save(buf)
    mapping = {"fields": {"title": "标题", "text": "内容", "external_id": "编号", "published": "时间"}}
    _, items, errors = _parse(tmp_path, "x.xlsx", buf.getvalue(), mapping)
    assert not errors
    assert [(i.title, i.external_id) for i in items] == [("华信银行", "1"), ("东岳银行", "2")]
    with pytest.raises(ParseError):
        FileConnector().parse(
            Src(mapping),
            RawPayload(
                body=b"PK\x03\x04garbage",
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
        )


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["text/csv", "application/x-ndjson"]))
def test_file_parser_never_crashes_on_garbage(body: bytes, ctype: str) -> None:
    try:
        result = FileConnector().parse(Src(), RawPayload(body=body, content_type=ctype, encoding="utf-8"))
    except ParseError:
        return
    assert len(result.items) + len(result.errors) <= body.count(b"\n") + 1


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.builds(
            lambda v: json.dumps(v).encode(),
            st.recursive(
                st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
                lambda c: st.one_of(
                    st.lists(c, max_size=3), st.dictionaries(st.text(max_size=6), c, max_size=4)
                ),
                max_leaves=12,
            ),
        ),
    )
)
def test_webhook_parser_never_crashes(body: bytes) -> None:
    try:
        result = WebhookConnector().parse(Src(), RawPayload(body=body))
    except ParseError:
        return
    assert all(e.payload is not None for e in result.errors)


def test_file_size_limit_and_missing_file(tmp_path: Path) -> None:
    from yuqing.errors import FetchError

    path = tmp_path / "big.jsonl"
    path.write_bytes(b'{"text": "x"}\n' * 200)
    with pytest.raises(FetchError) as info:
        list(iter_payloads(path, max_bytes=1024))
    assert info.value.code == "file_too_large"
    with pytest.raises(FetchError):
        list(iter_payloads(tmp_path / "missing.csv"))


def test_copies_of_an_evicted_original_are_not_linked() -> None:
    index = NearDupIndex(max_items=2)
    root = index.add(index.signature(ORIGINAL), T0, mention_id=1)  # type: ignore[arg-type]
    index.add(index.signature("转发微博//@A:" + ORIGINAL), T0, root=root, mention_id=2)  # type: ignore[arg-type]
    index.add(index.signature("完全不相关的另一条足够长的新闻文本内容用于挤出最早的条目"), T0)  # type: ignore[arg-type]
    assert len(index) == 2  # the original was evicted; its copy is still indexed
    assert index.find(index.signature("再转发//@B:" + ORIGINAL)) is None  # type: ignore[arg-type]
