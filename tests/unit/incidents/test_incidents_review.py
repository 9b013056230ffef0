"""Review metrics on scripted volume with known times; rendering escapes untrusted text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yuqing.incidents import review as rv

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
H = timedelta(hours=1)


def samples(event_id: int, cumulative: list[tuple[float, int, int]]) -> list[rv.VolumeSample]:
    return [rv.VolumeSample(event_id, T0 + h * H, total, neg) for h, total, neg in cumulative]


def test_metrics_on_a_scripted_incident() -> None:
    # two linked events; combined negative volume per hour: 10, 25, 40, 12, 3, 1
    a = samples(1, [(0, 0, 0), (1, 10, 8), (2, 30, 25), (3, 60, 50), (4, 70, 55), (5, 72, 56), (6, 73, 56)])
    b = samples(2, [(0, 5, 0), (1, 7, 2), (2, 12, 10), (3, 27, 25), (4, 35, 32), (5, 38, 34), (6, 40, 35)])
    st = [rv.PublishedStatement(9, "holding", "简要声明", T0 + 2 * H)]
    m = rv.compute_metrics(
        opened_at=T0,
        first_seen=T0 - 90 * timedelta(minutes=1),
        reported_at=T0 + 25 * timedelta(minutes=1),
        statements=st,
        samples=a + b,
        now=T0 + 12 * H,
        containment_share=0.2,
        effect_hours=2,
    )
    assert [x.negative for x in m.series] == [10, 25, 40, 12, 3, 1]
    assert m.time_to_detect_s == 90 * 60
    assert m.time_to_report_s == 25 * 60
    assert m.time_to_first_statement_s == 2 * 3600
    assert (m.peak_negative, m.peak_at) == (40, T0 + 2 * H)
    # first bucket after the peak at or below 0.2 * 40 = 8: (4h, 5h] with 3
    assert m.contained_at == T0 + 4 * H and m.time_to_containment_s == 4 * 3600
    [e] = m.statement_effects
    assert (e.negative_before, e.negative_after) == (35, 52)  # (0h,2h] vs (2h,4h]
    assert (e.total_before, e.total_after) == (37, 63)
    assert e.volume_change == 17 and e.complete
    assert e.share_before == pytest.approx(35 / 37) and e.share_change == pytest.approx(52 / 63 - 35 / 37)


@pytest.mark.parametrize(
    ("negatives", "share", "contained_index"),
    [
        ([5, 20, 10, 3], 0.2, 3),
        ([5, 20, 10, 5], 0.2, None),  # never back under 4
        ([5, 20, 10, 4], 0.2, 3),  # at the threshold counts
        ([20, 1], 0.5, 1),
        ([0, 0, 0], 0.2, None),  # no negative volume: no peak
    ],
)
def test_containment(negatives, share, contained_index) -> None:
    series = [rv.Bucket(T0 + i * H, n, n) for i, n in enumerate(negatives)]
    _peak, contained = rv.containment(series, share)
    assert (contained.start if contained else None) == (
        T0 + contained_index * H if contained_index is not None else None
    )


def test_volume_before_the_first_sample_is_a_baseline() -> None:
    cum = rv.CumulativeVolume(samples(1, [(0.5, 100, 80), (1.5, 110, 85)]))
    assert cum.window(T0 - 5 * H, T0 + 0.5 * H) == (0, 0)
    assert cum.window(T0, T0 + 2 * H) == (10, 5)


def test_incomplete_after_window_is_flagged() -> None:
    cum = rv.CumulativeVolume(samples(1, [(0, 0, 0), (1, 10, 5)]))
    [e] = rv.statement_effects(cum, [rv.PublishedStatement(1, "full", "t", T0 + H)], 6, now=T0 + 2 * H)
    assert not e.complete and e.share_after is None and e.share_change is None


def test_no_samples_no_series() -> None:
    m = rv.compute_metrics(opened_at=T0, first_seen=None, reported_at=None, statements=[], samples=[], now=T0)
    assert m.series == () and m.time_to_detect_s is None and m.time_to_containment_s is None
    assert m.as_dict()["statement_effects"] == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "—"), (59, "0m"), (600, "10m"), (3600, "1h00m"), (90061, "25h01m"), (-120, "-2m")],
)
def test_fmt_duration(seconds, text) -> None:
    assert rv.fmt_duration(seconds) == text


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("<script>", "&lt;script&gt;"),
        ("a|b", "a\\|b"),
        ("**bold** [x](javascript:1)", "\\*\\*bold\\*\\* \\[x\\](javascript:1)"),
        ("line1\nline2", "line1 line2"),
        ("# 标题", "\\# 标题"),
    ],
)
def test_md_escape(text, escaped) -> None:
    assert rv.md_escape(text) == escaped


def _doc(**kw) -> rv.ReviewDocument:
    m = rv.compute_metrics(opened_at=T0, first_seen=None, reported_at=None, statements=[], samples=[], now=T0)
    base = dict(
        incident_id=1,
        title="<b>标题</b>",
        level="II",
        status="reviewed",
        opened_at=T0,
        closed_at=T0 + H,
        metrics=m,
        timeline=[{"seq": 1, "at": T0, "kind": "opened", "actor": "<x>", "summary": "title=<img src=x>"}],
        went_well="<script>alert(1)</script>",
        went_badly="",
        actions=[{"title": "改进|措施", "owner": "a", "due_at": None, "status": "open"}],
        statements=[],
        chain_ok=True,
    )
    base.update(kw)
    return rv.ReviewDocument(**base)


def test_html_review_escapes_everything() -> None:
    html = rv.render_html(_doc())
    assert "<script>" not in html and "<img" not in html and "<b>标题" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;标题" in html


def test_markdown_review() -> None:
    md = rv.render_markdown(_doc(chain_ok=False))
    assert md.startswith("# 总结评估报告") and "TAMPERED" in md
    assert "&lt;script&gt;" in md and "改进\\|措施" in md and "<img" not in md
