"""Deadlines from level and settings; overdue detection with escalation steps (injectable time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yuqing.incidents import deadlines
from yuqing.incidents.settings import IncidentSettings

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (
            "I",
            {
                "report_management": 0.5,
                "first_response": 2,
                "holding_statement": 1,
                "full_statement": 12,
                "regulator_report": 2,
            },
        ),
        (
            "II",
            {
                "report_management": 1,
                "first_response": 6,
                "holding_statement": 2,
                "full_statement": 24,
                "regulator_report": 12,
            },
        ),
        ("III", {"report_management": 2, "first_response": 12, "holding_statement": 6, "full_statement": 48}),
        ("IV", {"report_management": 4, "first_response": 24, "holding_statement": 12, "full_statement": 72}),
    ],
)
def test_default_deadlines_per_level(level: str, expected: dict[str, float]) -> None:
    got = {d.kind: (d.due_at - T0) / H for d in deadlines.compute_deadlines(level, T0, IncidentSettings())}
    assert got == expected


def test_deadlines_follow_settings() -> None:
    cfg = IncidentSettings(
        response_deadline_hours={"I": 1, "II": 3, "III": 8, "IV": 16}, regulator_report_hours={}
    )
    got = {d.kind: d.due_at for d in deadlines.compute_deadlines("II", T0, cfg)}
    assert got["first_response"] == T0 + 3 * H and "regulator_report" not in got


@pytest.mark.parametrize(
    ("now_h", "step"),
    [(-0.1, None), (0, 0), (1.9, 0), (2, 1), (3.9, 1), (4, 2), (100, 2)],
)
def test_escalation_steps(now_h: float, step: int | None) -> None:
    assert deadlines.escalation_step(T0, T0 + now_h * H, 2 * H, 3) == step


@pytest.mark.parametrize(
    ("item", "now_h", "expected_step"),
    [
        (deadlines.Pending("task", 1, "t", T0, False, -1), 0.5, 0),  # newly overdue
        (deadlines.Pending("task", 1, "t", T0, False, 0), 0.5, None),  # already alerted at this step
        (deadlines.Pending("task", 1, "t", T0, False, 0), 2.5, 1),  # next escalation
        (deadlines.Pending("task", 1, "t", T0, True, -1), 5, None),  # done
        (deadlines.Pending("task", 1, "t", None, False, -1), 5, None),  # no due time
        (deadlines.Pending("deadline", 2, "first_response", T0 + H, False, -1), 0.5, None),  # not yet due
        (
            deadlines.Pending("deadline", 2, "first_response", T0, False, 2),
            50,
            None,
        ),  # max escalations reached
    ],
)
def test_find_overdue(item: deadlines.Pending, now_h: float, expected_step: int | None) -> None:
    found = deadlines.find_overdue([item], T0 + now_h * H, every=2 * H, max_steps=3)
    assert [o.step for o in found] == ([] if expected_step is None else [expected_step])
    if found:
        assert found[0].overdue_by == T0 + now_h * H - item.due_at


@pytest.mark.parametrize(
    ("level", "step", "alert"), [("III", 0, "III"), ("III", 1, "II"), ("II", 2, "I"), ("I", 2, "I")]
)
def test_overdue_alert_level_rises(level: str, step: int, alert: str) -> None:
    assert deadlines.overdue_alert_level(level, step) == alert
