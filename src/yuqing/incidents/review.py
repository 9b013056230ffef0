"""Review metrics and rendering (pure).

Definitions (all durations in seconds; ``None`` when the moment never happened):

- **time to detect**: from the first mention of the earliest linked event (its ``first_seen``) to the
  incident's opening;
- **time to report**: from opening to the report to the management group (the incident entering
  ``assessing``);
- **time to first statement**: from opening to the first published statement;
- **time to containment**: from opening to the start of the first volume bucket *after the peak*
  whose negative volume is at or below ``containment_share`` × the peak bucket's negative volume;
- **statement effect**: for each published statement at ``t``, negative volume, total volume and
  negative share in ``(t - H, t]`` and ``(t, t + H]`` (H = ``statement_effect_hours``), and the change.

Volumes come from cumulative samples of each linked event's mention and negative counts (recorded
from ``events.changed``); the count in a window ``(a, b]`` is the cumulative total at ``b`` minus the
one at ``a`` (the last sample at or before each end). A bucket labelled ``t`` holds ``(t, t + bucket]``.
What an event accumulated before its first sample is a baseline, not volume.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape


@dataclass(frozen=True)
class VolumeSample:
    event_id: int
    at: datetime
    mention_count: int
    negative_count: int


@dataclass(frozen=True)
class PublishedStatement:
    statement_id: int
    kind: str
    title: str
    published_at: datetime


@dataclass(frozen=True)
class StatementEffect:
    statement_id: int
    kind: str
    title: str
    published_at: datetime
    negative_before: int
    negative_after: int
    total_before: int
    total_after: int
    share_before: float | None
    share_after: float | None
    complete: bool  # the after-window had fully elapsed when measured

    @property
    def volume_change(self) -> int:
        return self.negative_after - self.negative_before

    @property
    def share_change(self) -> float | None:
        if self.share_before is None or self.share_after is None:
            return None
        return self.share_after - self.share_before


@dataclass(frozen=True)
class Bucket:
    start: datetime
    negative: int
    total: int


@dataclass(frozen=True)
class ReviewMetrics:
    time_to_detect_s: float | None
    time_to_report_s: float | None
    time_to_first_statement_s: float | None
    time_to_containment_s: float | None
    peak_at: datetime | None
    peak_negative: int
    contained_at: datetime | None
    statement_effects: tuple[StatementEffect, ...] = ()
    series: tuple[Bucket, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        def conv(v: Any) -> Any:
            if isinstance(v, datetime):
                return v.isoformat()
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            if isinstance(v, list | tuple):
                return [conv(x) for x in v]
            return v

        data = conv(asdict(self))
        data["statement_effects"] = [
            {**conv(asdict(e)), "volume_change": e.volume_change, "share_change": e.share_change}
            for e in self.statement_effects
        ]
        return data


class CumulativeVolume:
    """Total and negative counts of all linked events up to a moment (last sample per event)."""

    def __init__(self, samples: Sequence[VolumeSample]) -> None:
        by_event: dict[int, list[VolumeSample]] = defaultdict(list)
        for s in sorted(samples, key=lambda s: s.at):
            by_event[s.event_id].append(s)
        self._events = {k: ([s.at for s in v], v) for k, v in by_event.items()}
        self.first = min((s.at for s in samples), default=None)
        self.last = max((s.at for s in samples), default=None)

    def at(self, when: datetime) -> tuple[int, int]:
        """Cumulative counts as of ``when``; before an event's first sample, that sample is the baseline
        (what accumulated before the incident watched the event is not attributed to any window)."""
        total = negative = 0
        for times, rows in self._events.values():
            i = max(0, bisect.bisect_right(times, when) - 1)
            total += rows[i].mention_count
            negative += rows[i].negative_count
        return total, negative

    def window(self, start: datetime, end: datetime) -> tuple[int, int]:
        t1, n1 = self.at(end)
        t0, n0 = self.at(start)
        return max(0, t1 - t0), max(0, n1 - n0)


def volume_series(cum: CumulativeVolume, bucket: timedelta, end: datetime | None = None) -> list[Bucket]:
    if cum.first is None or cum.last is None:
        return []
    epoch = datetime(2000, 1, 1, tzinfo=cum.first.tzinfo)
    start = epoch + ((cum.first - epoch) // bucket) * bucket
    stop = end or cum.last
    out = []
    t = start
    # a bucket labelled t holds what the samples show arrived in (t, t + bucket]
    while t < stop:
        total, neg = cum.window(t, t + bucket)
        out.append(Bucket(t, neg, total))
        t += bucket
    return out


def containment(series: Sequence[Bucket], share: float) -> tuple[Bucket | None, Bucket | None]:
    """(peak bucket, first bucket after the peak at or under ``share`` × peak) — either may be None."""
    if not series:
        return None, None
    peak_index = max(range(len(series)), key=lambda i: (series[i].negative, -i))
    peak = series[peak_index]
    if peak.negative == 0:
        return None, None
    for b in series[peak_index + 1 :]:
        if b.negative <= share * peak.negative:
            return peak, b
    return peak, None


def _secs(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return (b - a).total_seconds()


def statement_effects(
    cum: CumulativeVolume, statements: Sequence[PublishedStatement], hours: float, now: datetime
) -> list[StatementEffect]:
    h = timedelta(hours=hours)
    out = []
    for st in sorted(statements, key=lambda s: s.published_at):
        t = st.published_at
        tb, nb = cum.window(t - h, t)
        ta, na = cum.window(t, t + h)
        out.append(
            StatementEffect(
                statement_id=st.statement_id,
                kind=st.kind,
                title=st.title,
                published_at=t,
                negative_before=nb,
                negative_after=na,
                total_before=tb,
                total_after=ta,
                share_before=(nb / tb) if tb else None,
                share_after=(na / ta) if ta else None,
                complete=now >= t + h,
            )
        )
    return out


def compute_metrics(
    *,
    opened_at: datetime,
    first_seen: datetime | None,
    reported_at: datetime | None,
    statements: Sequence[PublishedStatement],
    samples: Sequence[VolumeSample],
    now: datetime,
    containment_share: float = 0.2,
    effect_hours: float = 6.0,
    bucket_minutes: int = 60,
    end: datetime | None = None,
) -> ReviewMetrics:
    cum = CumulativeVolume(samples)
    series = volume_series(cum, timedelta(minutes=bucket_minutes), end=end)
    peak, contained = containment(series, containment_share)
    first_statement = min((s.published_at for s in statements), default=None)
    return ReviewMetrics(
        time_to_detect_s=_secs(first_seen, opened_at),
        time_to_report_s=_secs(opened_at, reported_at),
        time_to_first_statement_s=_secs(opened_at, first_statement),
        time_to_containment_s=_secs(opened_at, contained.start if contained else None),
        peak_at=peak.start if peak else None,
        peak_negative=peak.negative if peak else 0,
        contained_at=contained.start if contained else None,
        statement_effects=tuple(statement_effects(cum, statements, effect_hours, now)),
        series=tuple(series),
    )


# --- rendering -----------------------------------------------------------------------------------


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    h, rem = divmod(s, 3600)
    m = rem // 60
    return f"{sign}{h}h{m:02d}m" if h else f"{sign}{m}m"


def fmt_share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def md_escape(text: Any) -> str:
    """Markdown-safe text: HTML entities for ``& < >``, backslashes before Markdown syntax."""
    s = str(text if text is not None else "")
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "\\`*_[]|#!":
        s = s.replace(ch, "\\" + ch)
    return s.replace("\r", " ").replace("\n", " ")


@dataclass
class ReviewDocument:
    """Everything a rendered review shows; built by the service, rendered here."""

    incident_id: int
    title: str
    level: str
    status: str
    opened_at: datetime
    closed_at: datetime | None
    metrics: ReviewMetrics
    timeline: list[dict[str, Any]]  # {seq, at, kind, actor, summary}
    went_well: str
    went_badly: str
    actions: list[dict[str, Any]]  # {title, owner, due_at, status}
    statements: list[dict[str, Any]]  # {kind, title, status, published_at, channel, link}
    chain_ok: bool
    timezone: str = "Asia/Shanghai"
    generated_at: datetime | None = None


def local(at: datetime | None, tz: str) -> str:
    if at is None:
        return "—"
    return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def render_markdown(doc: ReviewDocument) -> str:
    m, tz = doc.metrics, doc.timezone
    lines = [
        f"# 总结评估报告 / Incident review — #{doc.incident_id} {md_escape(doc.title)}",
        "",
        f"- 等级 / level: {doc.level}",
        f"- 状态 / status: {doc.status}",
        f"- 启动 / opened: {local(doc.opened_at, tz)}",
        f"- 关闭 / closed: {local(doc.closed_at, tz)}",
        f"- 时间线校验 / timeline verified: {'通过 / intact' if doc.chain_ok else '失败 / TAMPERED'}",
        "",
        "## 关键时效 / key times",
        "",
        "| 指标 / metric | 用时 / duration |",
        "|---|---|",
        f"| 发现用时 / time to detect | {fmt_duration(m.time_to_detect_s)} |",
        f"| 报告用时 / time to report | {fmt_duration(m.time_to_report_s)} |",
        f"| 首份声明用时 / time to first statement | {fmt_duration(m.time_to_first_statement_s)} |",
        f"| 控制用时 / time to containment | {fmt_duration(m.time_to_containment_s)} |",
        "",
        f"负面声量峰值 / negative peak: {m.peak_negative}（{local(m.peak_at, tz)}）；"
        f"回落 / contained: {local(m.contained_at, tz)}",
        "",
        "## 声明效果 / statement effect",
        "",
        "| 声明 / statement | 发布 / published | 负面量 前→后 / negative before→after "
        "| 负面占比 前→后 / share |",
        "|---|---|---|---|",
    ]
    for e in m.statement_effects:
        partial = "" if e.complete else "（窗口未满 / partial）"
        lines.append(
            f"| {md_escape(e.title)} | {local(e.published_at, tz)} | {e.negative_before} → {e.negative_after}"
            f"{partial} | {fmt_share(e.share_before)} → {fmt_share(e.share_after)} |"
        )
    if not m.statement_effects:
        lines.append("| — | — | — | — |")
    lines += ["", "## 声明 / statements", ""]
    for s in doc.statements:
        lines.append(
            f"- {md_escape(s['title'])} — {s['status']}"
            + (
                f", {md_escape(s.get('channel'))} {local(s.get('published_at'), tz)}"
                if s.get("published_at")
                else ""
            )
        )
    lines += [
        "",
        "## 做得好的 / what went well",
        "",
        md_escape(doc.went_well) or "—",
        "",
        "## 不足 / what went badly",
        "",
        md_escape(doc.went_badly) or "—",
        "",
        "## 改进措施 / improvement actions",
        "",
        "| 措施 / action | 负责人 / owner | 期限 / due | 状态 / status |",
        "|---|---|---|---|",
    ]
    for a in doc.actions:
        lines.append(
            f"| {md_escape(a['title'])} | {md_escape(a['owner'])} "
            f"| {local(a.get('due_at'), tz)} | {a['status']} |"
        )
    if not doc.actions:
        lines.append("| — | — | — | — |")
    lines += ["", "## 时间线 / timeline", ""]
    for t in doc.timeline:
        lines.append(
            f"{t['seq']}. {local(t['at'], tz)} · {md_escape(t['kind'])} "
            f"· {md_escape(t.get('actor') or '系统')}"
            f" — {md_escape(t.get('summary', ''))}"
        )
    return "\n".join(lines) + "\n"


def render_html(doc: ReviewDocument) -> str:
    """The review as a standalone HTML page; autoescape is on, so every value is escaped."""
    env = Environment(
        loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=select_autoescape(["html", "j2"]),
    )
    env.filters["local"] = lambda at: local(at, doc.timezone)
    env.filters["duration"] = fmt_duration
    env.filters["share"] = fmt_share
    return env.get_template("review.html.j2").render(doc=doc, m=doc.metrics)
