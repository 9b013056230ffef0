"""The approval chain: selectors, order, four-eyes, rejection, publication and immutability."""

from __future__ import annotations

import pytest

from yuqing.errors import Conflict, PermissionDenied, ValidationError
from yuqing.incidents import approvals as ap

LEGAL = ap.PersonFacts(
    "sun.lei", "法律事务部", "法律事务部总经理", (("management", "member"), ("response", "member"))
)
LEGAL2 = ap.PersonFacts("guo.jia", "法律事务部", "法务经理", (("response", "member"),))
COMPLIANCE = ap.PersonFacts("liu.yang", "合规部", "合规部总经理", (("management", "deputy"),))
PR = ap.PersonFacts("zhou.ting", "品牌与公关部", "品牌与公关部总经理", (("response", "leader"),))
GONE = ap.PersonFacts("old.legal", "法律事务部", "前法务", (), active=False)
CHAIN = [
    ap.Step("legal", "法律审核", ("dept:法律事务部",)),
    ap.Step("compliance", "合规审核", ("dept:合规部",)),
]


@pytest.mark.parametrize(
    ("selector", "person", "hit"),
    [
        ("person:sun.lei", LEGAL, True),
        ("person:sun.lei", LEGAL2, False),
        ("group:response", LEGAL2, True),
        ("group:response:leader", LEGAL2, False),
        ("group:response:leader", PR, True),
        ("group:management:deputy", COMPLIANCE, True),
        ("dept:法律事务部", LEGAL2, True),
        ("dept:法律", LEGAL2, False),  # departments match exactly
        ("title:法务", LEGAL2, True),  # titles match by substring
        ("title:LEGAL", ap.PersonFacts("x", title="Head of Legal"), True),
    ],
)
def test_selectors(selector: str, person: ap.PersonFacts, hit: bool) -> None:
    assert ap.matches(selector, person) is hit


@pytest.mark.parametrize("selector", ["dept", "role:x", "person:", "legal"])
def test_bad_selectors(selector: str) -> None:
    with pytest.raises(ValidationError):
        ap.matches(selector, LEGAL)


def R(step: str, person: str, decision: str = "approve") -> ap.ApprovalRecord:
    return ap.ApprovalRecord(step, person, decision)


@pytest.mark.parametrize(
    ("records", "status", "person", "outcome"),
    [
        ([], "draft", LEGAL, "legal"),
        ([], "draft", LEGAL2, "legal"),
        ([], "draft", COMPLIANCE, PermissionDenied),  # cannot jump the legal step
        ([], "draft", PR, PermissionDenied),  # the author's side is not an approver
        ([], "draft", GONE, PermissionDenied),  # inactive people approve nothing
        ([R("legal", "sun.lei")], "in_review", COMPLIANCE, "compliance"),
        ([R("legal", "sun.lei")], "in_review", LEGAL, PermissionDenied),  # not the compliance step
        ([R("legal", "sun.lei"), R("compliance", "liu.yang")], "approved", COMPLIANCE, Conflict),
        ([R("legal", "sun.lei", "reject")], "draft", LEGAL2, Conflict),  # rejected: revise first
        ([], "published", LEGAL, Conflict),
        ([], "withdrawn", LEGAL, Conflict),
    ],
)
def test_check_approval(records, status, person, outcome) -> None:
    if isinstance(outcome, str):
        assert ap.check_approval(CHAIN, records, status, person)[0].key == outcome
    else:
        with pytest.raises(outcome):
            ap.check_approval(CHAIN, records, status, person)


def test_four_eyes_one_person_one_step() -> None:
    both = ap.PersonFacts("both", "合规部", roles=())
    chain = [ap.Step("a", "A", ("person:both",)), ap.Step("b", "B", ("dept:合规部",))]
    assert ap.check_approval(chain, [], "draft", both)[0].key == "a"
    with pytest.raises(PermissionDenied, match="four-eyes"):
        ap.check_approval(chain, [R("a", "both")], "in_review", both)


DEPUTY = ap.PersonFacts("wang.fang", "品牌与公关部", "公关经理", ())  # no approver role of her own
AWAY_COMPLIANCE = ap.PersonFacts("liu.yang", "合规部", "合规部总经理", (), active=False)


@pytest.mark.parametrize(
    ("records", "person", "covering", "outcome"),
    [
        # the stand-in of the absent legal head approves the legal step in their place
        ([], DEPUTY, [LEGAL], ("legal", "sun.lei")),
        # the absent person's record may be inactive: their authority still passes to the stand-in
        ([R("legal", "sun.lei")], DEPUTY, [AWAY_COMPLIANCE], ("compliance", "liu.yang")),
        # standing in for someone who is not an approver of this step gives nothing
        ([], DEPUTY, [COMPLIANCE], PermissionDenied),
        ([], DEPUTY, [], PermissionDenied),
        # an approver in their own right approves on their own authority, not on behalf of anyone
        ([], LEGAL2, [LEGAL], ("legal", None)),
        # four-eyes counts the human: the stand-in who approved step 1 cannot approve step 2
        ([R("legal", "wang.fang")], DEPUTY, [COMPLIANCE], PermissionDenied),
        # an inactive stand-in approves nothing
        ([], GONE, [LEGAL], PermissionDenied),
    ],
)
def test_stand_ins_approve_for_the_absent(records, person, covering, outcome) -> None:
    if isinstance(outcome, tuple):
        step, on_behalf_of = ap.check_approval(CHAIN, records, "in_review", person, covering)
        assert (step.key, on_behalf_of) == outcome
    else:
        with pytest.raises(outcome, match=r"stand-in|four-eyes"):
            ap.check_approval(CHAIN, records, "in_review", person, covering)


@pytest.mark.parametrize(
    ("records", "status"),
    [
        ([], "in_review"),
        ([R("legal", "a")], "in_review"),
        ([R("legal", "a"), R("compliance", "b")], "approved"),
        ([R("legal", "a"), R("compliance", "b", "reject")], "draft"),
    ],
)
def test_status_after(records, status) -> None:
    assert ap.status_after(CHAIN, records) == status


@pytest.mark.parametrize(
    ("status", "ok"), [("approved", True), ("draft", False), ("in_review", False), ("published", False)]
)
def test_publishable_only_when_approved(status: str, ok: bool) -> None:
    if ok:
        ap.check_publishable(status)
    else:
        with pytest.raises(Conflict):
            ap.check_publishable(status)


@pytest.mark.parametrize(
    ("status", "ok"), [("draft", True), ("approved", True), ("published", False), ("withdrawn", False)]
)
def test_published_is_immutable(status: str, ok: bool) -> None:
    if ok:
        ap.check_editable(status)
    else:
        with pytest.raises(Conflict):
            ap.check_editable(status)
