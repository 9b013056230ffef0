"""The lifecycle state machine: every allowed and every refused transition."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from yuqing.errors import Conflict, ValidationError
from yuqing.incidents import workflow

STATES = ["reported", "assessing", "responding", "recovering", "closed", "reviewed", "cancelled"]
# The expected table, written out independently of the module.
ALLOWED = {
    ("reported", "assessing"),
    ("reported", "cancelled"),
    ("assessing", "responding"),
    ("assessing", "cancelled"),
    ("responding", "recovering"),
    ("recovering", "responding"),
    ("recovering", "closed"),
    ("closed", "reviewed"),
    ("closed", "responding"),
}
AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
ALL_PAIRS = list(itertools.product(STATES, STATES))


def test_states_match() -> None:
    assert list(workflow.STATES) == STATES


@pytest.mark.parametrize(("src", "dst"), sorted(ALLOWED))
def test_allowed_transitions_record_who_when_why(src: str, dst: str) -> None:
    rec = workflow.transition(src, dst, actor="zhang.wei", at=AT, reason="因为 / because")
    assert (rec.from_state, rec.to_state, rec.actor, rec.at, rec.reason) == (
        src,
        dst,
        "zhang.wei",
        AT,
        "因为 / because",
    )


@pytest.mark.parametrize(("src", "dst"), [p for p in ALL_PAIRS if p not in ALLOWED])
def test_refused_transitions_name_both_states(src: str, dst: str) -> None:
    with pytest.raises(Conflict) as info:
        workflow.transition(src, dst, actor="zhang.wei", at=AT, reason="x")
    assert f"{src} -> {dst}" in str(info.value)
    assert info.value.detail == {"from_state": src, "to_state": dst}


@pytest.mark.parametrize(
    ("src", "dst"), [("reported", "cancelled"), ("assessing", "cancelled"), ("closed", "responding")]
)
def test_some_moves_need_a_reason(src: str, dst: str) -> None:
    with pytest.raises(ValidationError):
        workflow.transition(src, dst, actor="a", at=AT, reason="  ")
    assert workflow.transition(src, dst, actor="a", at=AT, reason="误报 / false alarm").reason


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"actor": "", "at": AT}, ValidationError),
        ({"actor": "a", "at": datetime(2026, 1, 1)}, ValidationError),
    ],
)
def test_actor_and_aware_time_required(kwargs, error) -> None:
    with pytest.raises(error):
        workflow.transition("reported", "assessing", **kwargs)


def test_unknown_states_and_levels() -> None:
    with pytest.raises(ValidationError):
        workflow.check_transition("reported", "flying")
    with pytest.raises(ValidationError):
        workflow.allowed_transitions("flying")
    with pytest.raises(ValidationError):
        workflow.check_level("V")
    assert workflow.check_level("I") == "I"


@pytest.mark.parametrize(("state", "is_open"), [(s, s in STATES[:4]) for s in STATES])
def test_open_states(state: str, is_open: bool) -> None:
    assert workflow.is_open(state) is is_open
