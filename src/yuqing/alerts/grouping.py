"""Noise control (pure): when a message about a subject goes to a person.

- a level increase on a known subject, or a new level I/II alert, goes out immediately (urgent);
- otherwise one subject does not reach the same person more often than ``min_interval``: a message
  within the interval is deferred to its end, and further updates while one is pending are merged
  into it (the person receives one message carrying the latest state and the number of updates);
- a storm (``storm_threshold`` messages to one person within ``storm_window``) defers non-urgent
  messages to the end of the window, where the dispatcher sends the pile as one digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from yuqing.core.contracts import level_rank


@dataclass(frozen=True)
class NoiseHistory:
    """What one person already got (or has pending): about this alert (times) and its subject (level)."""

    last_sent_at: datetime | None = None
    max_level_sent: str | None = None  # highest level already notified about the subject
    pending_send_at: datetime | None = None  # a not-yet-sent message about the subject is due then
    recent_to_person: int = 0  # messages sent to the person within the storm window
    subject_known: bool = False  # anything about the subject already sent or pending to the person


@dataclass(frozen=True)
class NoisePolicy:
    min_interval_s: float = 600.0
    storm_threshold: int = 10
    storm_window_s: float = 300.0


@dataclass(frozen=True)
class NoisePlan:
    action: Literal["send", "defer", "merge"]
    send_at: datetime
    urgent: bool
    reason: str


def _rank(level: str | None) -> int:
    return level_rank(level) if level else 0


def is_urgent(level: str | None, history: NoiseHistory) -> bool:
    known = history.subject_known or history.last_sent_at is not None or history.pending_send_at is not None
    if known:
        return _rank(level) > _rank(history.max_level_sent)
    return _rank(level) >= level_rank("II")


def plan(now: datetime, level: str | None, history: NoiseHistory, policy: NoisePolicy) -> NoisePlan:
    if is_urgent(level, history):
        return NoisePlan("send", now, True, "等级上升，立即送达 / level increase: immediately")
    if history.pending_send_at is not None:
        return NoisePlan(
            "merge", history.pending_send_at, False, "合并到待发消息 / merged into the pending message"
        )
    if history.last_sent_at is not None:
        release = history.last_sent_at + timedelta(seconds=policy.min_interval_s)
        if release > now:
            return NoisePlan(
                "defer", release, False, "最小间隔内，稍后合并发送 / within the minimum interval"
            )
    if history.recent_to_person >= policy.storm_threshold:
        return NoisePlan(
            "defer",
            now + timedelta(seconds=policy.storm_window_s),
            False,
            "预警风暴，汇总发送 / alert storm: sent as a digest",
        )
    return NoisePlan("send", now, False, "立即送达 / immediately")
