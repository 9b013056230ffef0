"""Publish times as found on Chinese and English sites, parsed to timezone-aware UTC.

Accepted (``now`` anchors everything relative; times without an offset are local to ``tz``,
Asia/Shanghai by default):

- ISO 8601 (``2024-03-05T10:30:00+08:00``, ``2024-03-05T02:30:00Z``, date only);
- RFC 822 / 2822 (``Tue, 05 Mar 2024 10:30:00 +0800``, ``GMT``);
- epoch seconds or milliseconds (int, float or digit string, 9-13 digits);
- ``2024年3月5日 10:30``, ``2024年3月5日``, ``2024-03-05 10:30[:00]``, ``2024/3/5 10:30``,
  ``2024.03.05``, ``03-05 10:30`` and ``3月5日 10:30`` (this year, or last year when that would
  lie in the future);
- relative Chinese: ``刚刚``, ``3秒前``, ``3分钟前``, ``2小时前``, ``3天前``, ``2周前``, ``半小时前``,
  ``今天 09:15``, ``昨天 14:02``, ``前天 08:00``;
- relative English: ``just now``, ``5 minutes ago``, ``an hour ago``, ``3 days ago``,
  ``yesterday``, ``today 09:15``, ``yesterday 14:02``.

Anything else, and any time more than one day after ``now``, raises :class:`TimeParseError`
(the ingest service then uses the fetch time and keeps the raw value in ``extra``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from yuqing.errors import ParseError

MAX_FUTURE = timedelta(days=1)
_MIN_YEAR = 1990


class TimeParseError(ParseError):
    code = "unparseable_time"


@lru_cache(maxsize=16)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


_UNIT_SECONDS = {
    "秒": 1,
    "秒钟": 1,
    "分": 60,
    "分钟": 60,
    "小时": 3600,
    "个小时": 3600,
    "钟头": 3600,
    "个钟头": 3600,
    "天": 86400,
    "日": 86400,
    "周": 7 * 86400,
    "星期": 7 * 86400,
    "个星期": 7 * 86400,
    "个月": 30 * 86400,
    "月": 30 * 86400,
    "年": 365 * 86400,
    "second": 1,
    "sec": 1,
    "minute": 60,
    "min": 60,
    "hour": 3600,
    "hr": 3600,
    "day": 86400,
    "week": 7 * 86400,
    "month": 30 * 86400,
    "year": 365 * 86400,
}
_ZH_REL = re.compile(
    r"^(\d{1,4}|半|一|两|几)\s*(秒钟|秒|分钟|分|个小时|小时|个钟头|钟头|天|日|个星期|星期|周|个月|年)\s*前$"
)
_EN_REL = re.compile(
    r"^(\d{1,4}|an?|one)\s*(second|sec|minute|min|hour|hr|day|week|month|year)s?\s+ago$", re.IGNORECASE
)
_DAY_WORDS = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2, "today": 0, "yesterday": 1}
_DAY_REL = re.compile(
    r"^(今天|今日|昨天|昨日|前天|today|yesterday)\s*(?:at\s*)?(\d{1,2})?(?::(\d{2}))?(?::(\d{2}))?$",
    re.IGNORECASE,
)
_FULL = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]*(\d{1,2})[:时点](\d{1,2})(?:[:分](\d{1,2})(?:\.\d+)?)?秒?)?$"
)
_SHORT = re.compile(
    r"^(\d{1,2})\s*[-/月]\s*(\d{1,2})\s*日?(?:\s*(\d{1,2})[:时点](\d{1,2})(?:[:分](\d{1,2}))?秒?)?$"
)
_EPOCH = re.compile(r"^\d{9,13}(?:\.\d+)?$")


def _local(d: date, t: time, tz: str) -> datetime:
    return datetime.combine(d, t).replace(tzinfo=_zone(tz)).astimezone(UTC)


def _check(result: datetime, now: datetime, raw: object) -> datetime:
    if result - now > MAX_FUTURE:
        raise TimeParseError(f"时间在未来 / time lies in the future: {raw!r}")
    if result.year < _MIN_YEAR:
        raise TimeParseError(f"时间过早 / time too early: {raw!r}")
    return result


def _hms(h: str | None, m: str | None, s: str | None) -> time:
    try:
        return time(int(h or 0), int(m or 0), int(s or 0))
    except ValueError as exc:
        raise TimeParseError(f"无效时刻 / invalid time of day: {h}:{m}:{s}") from exc


def _from_epoch(value: float, raw: object) -> datetime:
    if value > 1e11:  # milliseconds
        value /= 1000.0
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise TimeParseError(f"无效时间戳 / invalid epoch: {raw!r}") from exc


def parse_published(value: object, now: datetime, tz: str = "Asia/Shanghai") -> datetime:
    """Parse ``value`` into an aware UTC datetime; raise :class:`TimeParseError` otherwise."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    try:
        return _check(_parse(value, now, tz), now, value)
    except TimeParseError:
        raise
    except (ValueError, OverflowError, TypeError) as exc:
        raise TimeParseError(f"无法解析时间 / unparseable time: {str(value)[:80]!r}") from exc


def _parse(value: object, now: datetime, tz: str) -> datetime:
    if value is None or isinstance(value, bool):
        raise TimeParseError("缺少时间 / no time given")
    if isinstance(value, datetime):
        return (
            value.replace(tzinfo=_zone(tz)).astimezone(UTC) if value.tzinfo is None else value.astimezone(UTC)
        )
    if isinstance(value, date):
        return _local(value, time(0), tz)
    if isinstance(value, int | float):
        if value != value or value <= 0:  # NaN or non-positive
            raise TimeParseError(f"无效时间戳 / invalid epoch: {value!r}")
        return _from_epoch(float(value), value)
    if not isinstance(value, str):
        raise TimeParseError(f"无法解析时间 / unparseable time: {type(value).__name__}")
    text = " ".join(value.split()).replace("：", ":")
    if not text:
        raise TimeParseError("空时间 / empty time")
    low = text.lower()
    if low in ("刚刚", "刚才", "just now", "now", "moments ago", "a moment ago"):
        return now
    if _EPOCH.match(text):
        return _from_epoch(float(text), value)
    m = _ZH_REL.match(text)
    if m:
        n = {"半": 0.5, "一": 1, "两": 2, "几": 3}.get(m.group(1))
        amount = n if n is not None else int(m.group(1))
        return now - timedelta(seconds=amount * _UNIT_SECONDS[m.group(2)])
    m = _EN_REL.match(text)
    if m:
        raw_n = m.group(1).lower()
        amount = 1 if raw_n in ("a", "an", "one") else int(raw_n)
        return now - timedelta(seconds=amount * _UNIT_SECONDS[m.group(2).lower()])
    m = _DAY_REL.match(text)
    if m:
        local_today = now.astimezone(_zone(tz)).date()
        d = local_today - timedelta(days=_DAY_WORDS[m.group(1).lower()])
        return _local(d, _hms(m.group(2), m.group(3), m.group(4)), tz)
    m = _FULL.match(text)
    if m:
        y, mo, dd, h, mi, s = m.groups()
        return _local(date(int(y), int(mo), int(dd)), _hms(h, mi, s), tz)
    m = _SHORT.match(text)
    if m:
        mo, dd, h, mi, s = m.groups()
        local_now = now.astimezone(_zone(tz))
        result = _local(date(local_now.year, int(mo), int(dd)), _hms(h, mi, s), tz)
        if result - now > MAX_FUTURE:
            result = _local(date(local_now.year - 1, int(mo), int(dd)), _hms(h, mi, s), tz)
        return result
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        parsed = None
    if parsed is not None:
        return (
            parsed.replace(tzinfo=_zone(tz)).astimezone(UTC)
            if parsed.tzinfo is None
            else parsed.astimezone(UTC)
        )
    if "," in text or re.search(r"[A-Za-z]{3}", text):
        try:
            rfc = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            rfc = None
        if rfc is not None:
            return rfc.replace(tzinfo=UTC) if rfc.tzinfo is None else rfc.astimezone(UTC)
    raise TimeParseError(f"无法解析时间 / unparseable time: {text[:80]!r}")
