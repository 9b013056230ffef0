"""The pure core of the reports domain: periods, due-checks, brief arithmetic, templates, escaping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from yuqing.errors import ValidationError
from yuqing.reports.document import Document, Paragraph, Quote, Section, Table
from yuqing.reports.output import parse_formats, safe_stem
from yuqing.reports.render_html import render, safe_url
from yuqing.reports.schedule import brief_key, due_briefs, latest_due, send_moment
from yuqing.reports.service import (
    BriefFacts,
    EventFact,
    MentionFact,
    bucket_starts,
    change_pct,
    excerpt,
    fmt_pct,
    period_of,
    rank_events,
    spread_of,
    summarise_mentions,
)
from yuqing.reports.templating import render_text

SH = "Asia/Shanghai"
UTC_Z = ZoneInfo("UTC")


def _sh(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=ZoneInfo(SH))


@pytest.mark.parametrize(
    ("kind", "day", "first", "start_local", "end_local", "prev_local", "buckets"),
    [
        ("daily", date(2026, 3, 4), date(2026, 3, 4), _sh(2026, 3, 4), _sh(2026, 3, 5), _sh(2026, 3, 3), 24),
        ("weekly", date(2026, 3, 4), date(2026, 3, 2), _sh(2026, 3, 2), _sh(2026, 3, 9), _sh(2026, 2, 23), 7),
        ("weekly", date(2026, 3, 8), date(2026, 3, 2), _sh(2026, 3, 2), _sh(2026, 3, 9), _sh(2026, 2, 23), 7),
        (
            "monthly",
            date(2026, 2, 14),
            date(2026, 2, 1),
            _sh(2026, 2, 1),
            _sh(2026, 3, 1),
            _sh(2026, 1, 1),
            28,
        ),
        (
            "monthly",
            date(2026, 12, 31),
            date(2026, 12, 1),
            _sh(2026, 12, 1),
            _sh(2027, 1, 1),
            _sh(2026, 11, 1),
            31,
        ),
        (
            "monthly",
            date(2026, 1, 1),
            date(2026, 1, 1),
            _sh(2026, 1, 1),
            _sh(2026, 2, 1),
            _sh(2025, 12, 1),
            31,
        ),
    ],
)
def test_periods(kind, day, first, start_local, end_local, prev_local, buckets):
    p = period_of(kind, day, SH)
    assert p.first_day == first
    assert p.start == start_local.astimezone(UTC_Z) and p.end == end_local.astimezone(UTC_Z)
    assert p.prev_start == prev_local.astimezone(UTC_Z) and p.prev_end == p.start
    assert p.start.tzinfo is not None
    starts = bucket_starts(p, SH)
    assert len(starts) == buckets and starts[0] == p.start and starts[-1] < p.end


def test_unknown_period_is_refused():
    with pytest.raises(ValidationError, match="unknown period"):
        period_of("yearly", date(2026, 1, 1), SH)


@pytest.mark.parametrize(
    ("now_local", "kind", "expected"),
    [
        (_sh(2026, 3, 4, 7, 59), "daily", date(2026, 3, 2)),  # before 08:00: yesterday's brief not yet due
        (_sh(2026, 3, 4, 8, 0), "daily", date(2026, 3, 3)),
        (_sh(2026, 3, 4, 23, 0), "daily", date(2026, 3, 3)),
        (_sh(2026, 3, 2, 7, 0), "weekly", date(2026, 2, 16)),  # Monday before 08:00
        (_sh(2026, 3, 2, 8, 0), "weekly", date(2026, 2, 23)),  # Monday 08:00: last week
        (_sh(2026, 3, 8, 22, 0), "weekly", date(2026, 2, 23)),  # Sunday: still last week's
        (_sh(2026, 3, 1, 7, 0), "monthly", date(2026, 1, 1)),
        (_sh(2026, 3, 1, 8, 0), "monthly", date(2026, 2, 1)),
        (_sh(2026, 1, 1, 9, 0), "monthly", date(2025, 12, 1)),
    ],
)
def test_latest_due(now_local, kind, expected):
    assert latest_due(kind, now_local, 8) == expected
    # the brief's send moment is indeed at or before now
    assert send_moment(kind, expected, 8, SH) <= now_local.astimezone(UTC_Z)


def test_due_briefs_cover_every_scope_and_keys_are_stable():
    due = due_briefs(_sh(2026, 3, 2, 9).astimezone(UTC_Z), SH, 8, ["daily", "weekly"], [None, "华信银行"])
    assert due == [
        ("daily", date(2026, 3, 1), None),
        ("daily", date(2026, 3, 1), "华信银行"),
        ("weekly", date(2026, 2, 23), None),
        ("weekly", date(2026, 2, 23), "华信银行"),
    ]
    assert brief_key("daily", date(2026, 3, 1), None) == "daily:2026-03-01:*"


def _facts(kind: str = "daily") -> BriefFacts:
    p = period_of(kind, date(2026, 3, 4), SH)
    return BriefFacts(period=p, target=None, organisation="华信银行", generated_at=p.end, timezone=SH)


def test_summarise_mentions_counts_series_platforms_and_previous_period():
    f = _facts()
    start = f.period.start
    rows = [
        MentionFact(1, start + timedelta(minutes=5), "weibo", True, "收费争议", False),
        MentionFact(2, start + timedelta(minutes=50), "weibo", False, None, True),
        MentionFact(3, start + timedelta(hours=5), "news", True, "收费争议", False),
        MentionFact(4, start + timedelta(hours=23, minutes=59), "news", True, "服务质量", False),
        MentionFact(5, start - timedelta(hours=1), "weibo", True, None, False),  # previous day
        MentionFact(6, f.period.end, "weibo", True, None, False),  # next day: excluded
    ]
    summarise_mentions(f, rows, bucket_starts(f.period, SH))
    assert (f.total, f.negative, f.originals, f.prev_total, f.prev_negative) == (4, 3, 3, 1, 1)
    assert [p.total for p in f.series][:6] == [2, 0, 0, 0, 0, 1] and f.series[23].total == 1
    assert f.series[0].negative == 1 and f.series[0].share == 0.5 and f.series[1].share is None
    assert f.platforms == [("news", 2, 2), ("weibo", 2, 1)]
    assert f.risk_types == [("收费争议", 2), ("服务质量", 1)]
    assert f.negative_share == 0.75 and f.prev_share == 1.0


@pytest.mark.parametrize(
    ("now", "before", "expected"),
    [(10, 5, 1.0), (5, 10, -0.5), (3, 0, None), (0, 0, None), (7, 7, 0.0)],
)
def test_change_pct(now, before, expected):
    assert change_pct(now, before) == expected


@pytest.mark.parametrize(
    ("value", "signed", "text"),
    [(None, False, "—"), (0.5, False, "50.0%"), (0.123, True, "+12.3%"), (-0.2, True, "-20.0%")],
)
def test_fmt_pct(value, signed, text):
    assert fmt_pct(value, signed) == text


def _ev(i: int, level: str | None, in_period: int, total: int) -> EventFact:
    t = datetime(2026, 3, 4, tzinfo=UTC)
    return EventFact(i, f"e{i}", level, (), "active", t, t, total, 0.5, (), None, in_period)


def test_rank_events_most_severe_then_most_active():
    events = [
        _ev(1, "IV", 50, 50),
        _ev(2, "II", 3, 10),
        _ev(3, None, 90, 90),
        _ev(4, "II", 9, 10),
        _ev(5, "I", 1, 1),
    ]
    assert [e.event_id for e in rank_events(events, 4)] == [5, 4, 2, 1]


@pytest.mark.parametrize(
    ("text", "limit", "out"),
    [
        ("短文本", 10, "短文本"),
        ("a  b\n\nc", 10, "a b c"),
        ("一二三四五六七八九十", 5, "一二三四…"),
        ("", 5, ""),
    ],
)
def test_excerpt_is_verbatim_and_bounded(text, limit, out):
    assert excerpt(text, limit) == out


def test_spread_in_order_of_first_appearance():
    t = datetime(2026, 3, 4, tzinfo=UTC)
    rows = [
        ("weibo", t + timedelta(hours=2), True),
        ("complaint", t, True),
        ("weibo", t + timedelta(hours=1), False),
    ]
    assert spread_of(rows) == [("complaint", t, 1, 1), ("weibo", t + timedelta(hours=1), 2, 1)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("html,docx", ["html", "docx"]),
        (" PDF ", ["pdf"]),
        (None, ["html", "docx", "pdf"]),
        ("html,html", ["html"]),
    ],
)
def test_parse_formats(value, expected):
    assert parse_formats(value) == expected


@pytest.mark.parametrize("value", ["doc", "html,xls", ","])
def test_parse_formats_refuses_unknown(value):
    with pytest.raises(ValidationError):
        parse_formats(value)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://news.example.cn/a?b=1", True),
        ("http://x.example/", True),
        ("javascript:alert(1)", False),
        ("data:text/html,hi", False),
        ("//evil.example/x", False),
        (None, False),
    ],
)
def test_safe_url(url, ok):
    assert safe_url(url) is ok


def test_safe_stem_keeps_chinese_and_drops_path_tricks():
    assert safe_stem("brief-daily-2026-03-01-华信银行") == "brief-daily-2026-03-01-华信银行"
    assert "/" not in safe_stem("../../etc/passwd") and not safe_stem("../x").startswith(".")


def _doc(**kw) -> Document:
    base = dict(
        kind="brief",
        title="标题",
        subtitle="副标题",
        organisation="华信银行",
        classification="内部资料",
        generated_at=datetime(2026, 3, 4, tzinfo=UTC),
    )
    base.update(kw)
    return Document(**base)  # type: ignore[arg-type]


def test_html_escapes_ingested_text_and_marks_drafts():
    evil = '<img src=x onerror="alert(1)">'
    doc = _doc(
        summary=f"摘要 {evil}",
        draft="模型起草的文字",
        sections=[
            Section(
                "一、测试",
                [
                    Paragraph(evil),
                    Quote(evil, "某网站", "javascript:alert(1)"),
                    Table(("a",), ((evil,),), links=("https://ok.example/x",)),
                ],
            )
        ],
    )
    html = render(doc)
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert "javascript:" not in html and 'href="https://ok.example/x"' in html
    assert "草稿" in html and "DRAFT" in html and "模型起草的文字" in html


def test_templates_can_be_replaced_one_by_one(tmp_path):
    (tmp_path / "brief_summary.txt.j2").write_text("本行自定义：{{ f.total }} 条。\n", encoding="utf-8")
    (tmp_path / "brief.html.j2").write_text(
        '{% extends "document.html.j2" %}'
        '{% block letterhead %}<div id="lh">某某银行 letterhead</div>{% endblock %}',
        encoding="utf-8",
    )
    f = _facts()
    f.total = 42
    assert render_text(str(tmp_path), "brief_summary.txt.j2", f=f) == "本行自定义：42 条。"
    html = render(_doc(), template_dir=str(tmp_path))
    assert '<div id="lh">某某银行 letterhead</div>' in html and "<h1>标题</h1>" in html
    # a template the firm did not replace still comes from the shipped set
    assert "{{" not in render_text(str(tmp_path), "event_summary.txt.j2", **_event_ctx())


def _event_ctx() -> dict:
    from yuqing.reports.service import EventReportFacts

    t = datetime(2026, 3, 4, tzinfo=UTC)
    f = EventReportFacts(1, "事件", "II", (), "active", None, t, t, 10, 5, 0.5, 3, 0.0, (), "华信银行", t, SH)
    return {"f": f, "first_seen": "03-04", "last_seen": "03-05", "level_text": lambda lv: str(lv)}


def test_shipped_brief_summary_states_only_facts():
    f = _facts()
    f.total, f.negative, f.prev_total, f.prev_negative = 120, 30, 100, 10
    text = render_text(
        None,
        "brief_summary.txt.j2",
        f=f,
        scope="华信银行",
        period_name="本日",
        total_change=change_pct(120, 100),
        level_text=str,
    )
    assert "120 条" in text and "负面 30 条" in text and "25.0%" in text and "+20.0%" in text
    assert "上一周期为 100 条" in text
