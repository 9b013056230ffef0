"""Deadlines from the incident's level and the settings, and overdue detection (pure).

A deadline is counted from the incident's opening; it is *met* at a moment recorded by the service
(see :data:`DEADLINE_KINDS`). Overdue detection escalates once per period after the due time, at most
``max_escalations`` times, so a caller that remembers the last step it alerted is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yuqing.incidents.settings import IncidentSettings

# kind -> (settings field, Chinese name, English name, what meets it)
DEADLINE_KINDS: dict[str, tuple[str, str, str]] = {
    "report_management": ("report_deadline_hours", "报告应急管理小组", "report to the management group"),
    "first_response": ("response_deadline_hours", "首次响应", "first response"),
    "holding_statement": ("holding_statement_hours", "首份简要声明", "first holding statement"),
    "full_statement": ("full_statement_hours", "首份完整声明", "first full statement"),
    "regulator_report": ("regulator_report_hours", "向监管报告", "report to the regulator"),
}


@dataclass(frozen=True)
class DeadlineSpec:
    kind: str
    due_at: datetime

    @property
    def label(self) -> str:
        _, zh, en = DEADLINE_KINDS[self.kind]
        return f"{zh} / {en}"


def deadline_label(kind: str) -> str:
    _, zh, en = DEADLINE_KINDS[kind]
    return f"{zh} / {en}"


def compute_deadlines(level: str, opened_at: datetime, settings: IncidentSettings) -> list[DeadlineSpec]:
    """The deadlines that apply to an incident of ``level`` opened at ``opened_at``."""
    out = []
    for kind, (field, _zh, _en) in DEADLINE_KINDS.items():
        hours: dict[str, float] = getattr(settings, field)
        if level in hours:
            out.append(DeadlineSpec(kind, opened_at + timedelta(hours=float(hours[level]))))
    return out


@dataclass(frozen=True)
class Overdue:
    """Something past due that should alert now: escalation ``step`` (0 = first alert)."""

    subject: str  # deadline | task | action
    subject_id: int
    kind: str
    due_at: datetime
    step: int
    overdue_by: timedelta


def escalation_step(due_at: datetime, now: datetime, every: timedelta, max_steps: int) -> int | None:
    """Which escalation step ``now`` is in (0 at the due time, +1 per period), or None if not due."""
    if now < due_at:
        return None
    step = int((now - due_at) // every)
    return min(step, max_steps - 1)


@dataclass(frozen=True)
class Pending:
    """An open obligation: a deadline or a task not yet met/done."""

    subject: str
    subject_id: int
    kind: str
    due_at: datetime | None
    done: bool
    alerted_step: int  # last escalation step already alerted; -1 = none


def find_overdue(items: list[Pending], now: datetime, *, every: timedelta, max_steps: int) -> list[Overdue]:
    """Items whose current escalation step has not been alerted yet (the caller then records it)."""
    out = []
    for item in items:
        if item.done or item.due_at is None:
            continue
        step = escalation_step(item.due_at, now, every, max_steps)
        if step is not None and step > item.alerted_step:
            out.append(
                Overdue(item.subject, item.subject_id, item.kind, item.due_at, step, now - item.due_at)
            )
    return out


def overdue_alert_level(incident_level: str, step: int) -> str:
    """Alerts for an overdue item start at the incident's level and rise one level per escalation."""
    from yuqing.core.contracts import LEVELS

    index = LEVELS.index(incident_level)
    return LEVELS[max(0, index - step)]
