"""The incident lifecycle as an explicit state machine (pure).

reported → assessing → responding → recovering → closed → reviewed, plus cancelled (false alarm).
A recovering incident may relapse to responding; a closed one may be reopened (to responding)
before its review is final. Every other move is refused with :class:`yuqing.errors.Conflict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from yuqing.core.contracts import LEVELS
from yuqing.errors import Conflict, ValidationError

STATES = ("reported", "assessing", "responding", "recovering", "closed", "reviewed", "cancelled")
OPEN_STATES = ("reported", "assessing", "responding", "recovering")
TERMINAL_STATES = ("reviewed", "cancelled")

STATE_NAMES_ZH = {
    "reported": "已报告",
    "assessing": "研判中",
    "responding": "处置中",
    "recovering": "恢复中",
    "closed": "已关闭",
    "reviewed": "已总结",
    "cancelled": "已撤销",
}

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "reported": ("assessing", "cancelled"),
    "assessing": ("responding", "cancelled"),
    "responding": ("recovering",),
    "recovering": ("responding", "closed"),
    "closed": ("reviewed", "responding"),
    "reviewed": (),
    "cancelled": (),
}

# Moves that must say why (a false alarm, a relapse, a reopening).
REASON_REQUIRED = {("reported", "cancelled"), ("assessing", "cancelled"), ("closed", "responding")}


@dataclass(frozen=True)
class TransitionRecord:
    """Who moved the incident, when, from where to where and why."""

    from_state: str
    to_state: str
    actor: str
    at: datetime
    reason: str


def state_label(state: str) -> str:
    return f"{STATE_NAMES_ZH.get(state, state)} ({state})"


def allowed_transitions(state: str) -> tuple[str, ...]:
    if state not in TRANSITIONS:
        raise ValidationError(f"未知状态 / unknown state: {state}")
    return TRANSITIONS[state]


def check_transition(from_state: str, to_state: str, reason: str = "") -> None:
    """Raise :class:`Conflict` naming both states when ``from_state → to_state`` is not allowed."""
    if to_state not in STATES:
        raise ValidationError(f"未知状态 / unknown state: {to_state}")
    if to_state not in allowed_transitions(from_state):
        allowed = ", ".join(TRANSITIONS[from_state]) or "无 / none"
        raise Conflict(
            f"不允许从 {state_label(from_state)} 转为 {state_label(to_state)}；可转为: {allowed} / "
            f"transition {from_state} -> {to_state} is not allowed (allowed: {allowed})",
            from_state=from_state,
            to_state=to_state,
        )
    if (from_state, to_state) in REASON_REQUIRED and not reason.strip():
        raise ValidationError(
            f"从 {state_label(from_state)} 转为 {state_label(to_state)} 须说明原因 / "
            f"transition {from_state} -> {to_state} needs a reason"
        )


def transition(
    from_state: str, to_state: str, *, actor: str, at: datetime, reason: str = ""
) -> TransitionRecord:
    """Validate a move and return its record (who, when, why)."""
    if not actor:
        raise ValidationError("须指明操作人 / an actor is required")
    if at.tzinfo is None:
        raise ValidationError("时间须带时区 / transition time must be timezone-aware")
    check_transition(from_state, to_state, reason)
    return TransitionRecord(from_state, to_state, actor, at, reason.strip())


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise ValidationError(f"未知等级 / unknown level: {level} (I, II, III, IV)")
    return level


def is_open(state: str) -> bool:
    return state in OPEN_STATES
