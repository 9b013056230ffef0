"""Message rendering (pure): one alert (or a digest of several) as subject, plain text, HTML,
Markdown and a structured payload. Chinese first, English alongside. Everything that came from
outside (titles, mention text, URLs) is escaped for the format it lands in, and only http(s)
links are ever rendered as links.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.core.contracts import LEVEL_COLOURS, LEVEL_NAMES_ZH

LEVEL_NAMES_EN = {"I": "Critical", "II": "Major", "III": "Significant", "IV": "General"}
KIND_ZH = {
    "event": "舆情事件",
    "signal": "苗头预警",
    "incident": "应急事件",
    "source_health": "监测源故障",
    "channel_health": "通知通道故障",
    "manual": "人工预警",
    "test": "通道测试",
}
NUMBER_LABELS = (  # key, zh, en, format
    ("mention_count", "信息量", "mentions", "{:,.0f}"),
    ("negative_count", "负面数", "negative", "{:,.0f}"),
    ("negative_share", "负面占比", "negative share", "{:.0%}"),
    ("reach", "传播量", "reach", "{:,.0f}"),
    ("velocity", "每小时新增", "per hour", "{:,.1f}"),
)
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")


def clean(text: Any, limit: int = 300) -> str:
    s = _CTRL.sub("", str(text or "")).strip()
    return s if len(s) <= limit else s[: limit - 1] + "…"


def one_line(text: Any, limit: int = 200) -> str:
    return " ".join(clean(text, limit * 2).split())[:limit]


def safe_url(url: Any) -> str | None:
    s = clean(url, 2000)
    if not re.match(r"^https?://[^\s<>\"']+$", s, re.IGNORECASE):
        return None
    return s


def md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


@dataclass(frozen=True)
class MentionLink:
    title: str
    url: str | None
    platform: str = ""


@dataclass(frozen=True)
class AlertView:
    alert_id: int
    kind: str
    title: str
    level: str | None
    reasons: tuple[str, ...] = ()
    numbers: dict[str, Any] = field(default_factory=dict)
    platforms: tuple[str, ...] = ()
    mentions: tuple[MentionLink, ...] = ()
    ack_url: str | None = None
    raised_at: datetime | None = None
    updates: int = 0  # updates merged into this message
    note: str | None = None  # e.g. escalation reminder
    recipient_name: str | None = None


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str
    markdown: str
    payload: dict[str, Any]
    attachments: tuple[Path, ...] = ()  # files for channels that carry them (email)


def level_label(level: str | None) -> tuple[str, str]:
    if not level:
        return "未定级", "ungraded"
    return f"{level}级 {LEVEL_NAMES_ZH[level]}", f"Level {level} {LEVEL_NAMES_EN[level]}"


def _numbers(view: AlertView) -> list[tuple[str, str, str]]:
    out = []
    for key, zh, en, fmt in NUMBER_LABELS:
        v = view.numbers.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool):
            out.append((zh, en, fmt.format(v)))
    if view.platforms:
        out.append(("平台", "platforms", "、".join(one_line(p, 30) for p in view.platforms[:8])))
    return out


def subject_line(view: AlertView) -> str:
    zh, en = level_label(view.level)
    kind = KIND_ZH.get(view.kind, view.kind)
    prefix = "【舆情预警】" if not view.note else f"【{one_line(view.note, 40)}】"
    upd = f"（{view.updates} 次更新）" if view.updates else ""
    return one_line(f"{prefix}[{zh}] {kind}：{view.title}{upd} / [{en}] {view.kind} alert", 180)


def _local(dt: datetime | None, tz: str) -> str:
    if dt is None:
        return ""
    return dt.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")


def payload_of(view: AlertView) -> dict[str, Any]:
    return {
        "alert_id": view.alert_id,
        "kind": view.kind,
        "level": view.level,
        "title": one_line(view.title, 300),
        "reasons": [one_line(r, 300) for r in view.reasons],
        "numbers": {k: view.numbers[k] for k, *_ in NUMBER_LABELS if k in view.numbers},
        "platforms": [one_line(p, 50) for p in view.platforms],
        "top_mentions": [
            {"title": one_line(m.title, 200), "url": safe_url(m.url), "platform": one_line(m.platform, 50)}
            for m in view.mentions
        ],
        "ack_url": view.ack_url,
        "raised_at": view.raised_at.isoformat() if view.raised_at else None,
        "updates": view.updates,
        "note": view.note,
    }


def render(view: AlertView, tz: str = "Asia/Shanghai") -> RenderedMessage:
    zh, en = level_label(view.level)
    subject = subject_line(view)
    title = one_line(view.title, 300)
    nums = _numbers(view)
    text_lines = [subject, "", f"等级 / Level: {zh} / {en}", f"标题 / Title: {title}"]
    if view.raised_at:
        text_lines.append(f"时间 / Raised: {_local(view.raised_at, tz)}")
    if view.note:
        text_lines.append(f"提示 / Note: {one_line(view.note, 200)}")
    if view.updates:
        text_lines.append(f"期间合并了 {view.updates} 次更新 / {view.updates} updates grouped")
    if view.reasons:
        text_lines += ["", "原因 / Why:"] + [f"- {one_line(r, 300)}" for r in view.reasons]
    if nums:
        text_lines += ["", "关键数据 / Key numbers:"] + [f"- {z} / {e}: {v}" for z, e, v in nums]
    if view.mentions:
        text_lines += ["", "重点信息 / Top mentions:"]
        for m in view.mentions:
            url = safe_url(m.url)
            text_lines.append(f"- {one_line(m.title, 120)}" + (f" <{url}>" if url else ""))
    if view.ack_url:
        text_lines += ["", f"确认收到 / Acknowledge: {view.ack_url}"]
    text = "\n".join(text_lines) + "\n"

    e = html.escape
    colour = LEVEL_COLOURS.get(view.level or "", "gray")
    parts = [
        '<!doctype html><html lang="zh"><body style="font-family:sans-serif">',
        f'<h2 style="color:{colour}">{e(zh)} / {e(en)}</h2>',
        f"<h3>{e(title)}</h3>",
    ]
    if view.raised_at:
        parts.append(f"<p>时间 / Raised: {e(_local(view.raised_at, tz))}</p>")
    if view.note:
        parts.append(f"<p><strong>{e(one_line(view.note, 200))}</strong></p>")
    if view.updates:
        parts.append(f"<p>期间合并了 {view.updates} 次更新 / {view.updates} updates grouped</p>")
    if view.reasons:
        parts.append("<h4>原因 / Why</h4><ul>" + "".join(f"<li>{e(one_line(r))}</li>" for r in view.reasons))
        parts.append("</ul>")
    if nums:
        rows = "".join(f"<tr><th>{e(z)} / {e(en_)}</th><td>{e(v)}</td></tr>" for z, en_, v in nums)
        parts.append(f"<h4>关键数据 / Key numbers</h4><table>{rows}</table>")
    if view.mentions:
        items = []
        for m in view.mentions:
            url = safe_url(m.url)
            t = e(one_line(m.title, 120))
            items.append(
                f'<li><a href="{e(url)}" rel="noopener noreferrer">{t}</a></li>' if url else f"<li>{t}</li>"
            )
        parts.append("<h4>重点信息 / Top mentions</h4><ul>" + "".join(items) + "</ul>")
    if view.ack_url:
        parts.append(f'<p><a href="{e(view.ack_url)}">确认收到 / Acknowledge</a></p>')
    parts.append("</body></html>")

    md = [f"**{md_escape(subject)}**", "", f"> 等级 / Level: **{zh} / {en}**"]
    if view.note:
        md.append(f"> {md_escape(one_line(view.note, 200))}")
    if view.updates:
        md.append(f"> 期间合并了 {view.updates} 次更新 / {view.updates} updates grouped")
    if view.reasons:
        md += ["", "**原因 / Why**"] + [f"- {md_escape(one_line(r, 300))}" for r in view.reasons]
    if nums:
        md += ["", "**关键数据 / Key numbers**"] + [f"- {z} / {en_}: {md_escape(v)}" for z, en_, v in nums]
    if view.mentions:
        md += ["", "**重点信息 / Top mentions**"]
        for m in view.mentions:
            url = safe_url(m.url)
            t = md_escape(one_line(m.title, 120))
            md.append(f"- [{t}]({url})" if url else f"- {t}")
    if view.ack_url:
        md += ["", f"[确认收到 / Acknowledge]({view.ack_url})"]
    return RenderedMessage(
        subject=subject, text=text, html="".join(parts), markdown="\n".join(md), payload=payload_of(view)
    )


def render_digest(views: list[AlertView], tz: str = "Asia/Shanghai") -> RenderedMessage:
    """Several alerts to one person in one message (a storm summary)."""
    n = len(views)
    subject = one_line(f"【舆情预警汇总】{n} 条预警 / digest of {n} alerts", 180)
    lines = [subject, ""]
    md = [f"**{md_escape(subject)}**", ""]
    items = []
    for v in views:
        zh, _en = level_label(v.level)
        t = one_line(v.title, 120)
        lines.append(f"- [{zh}] {t}" + (f"  确认 / ack: {v.ack_url}" if v.ack_url else ""))
        md.append(f"- [{zh}] {md_escape(t)}" + (f" ([确认 / ack]({v.ack_url}))" if v.ack_url else ""))
        link = f' <a href="{html.escape(v.ack_url)}">确认 / ack</a>' if v.ack_url else ""
        items.append(f"<li>[{html.escape(zh)}] {html.escape(t)}{link}</li>")
    body = (
        f'<!doctype html><html lang="zh"><body><h3>{html.escape(subject)}</h3><ul>{"".join(items)}</ul>'
        "</body></html>"
    )
    return RenderedMessage(
        subject=subject,
        text="\n".join(lines) + "\n",
        html=body,
        markdown="\n".join(md),
        payload={"digest": True, "count": n, "alerts": [payload_of(v) for v in views]},
    )
