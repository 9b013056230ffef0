"""The statement approval chain and person selectors (pure).

A chain is an ordered list of steps; each step names who may approve it with selectors:
``person:KEY``, ``group:KEY`` / ``group:KEY:ROLE``, ``dept:DEPARTMENT`` (exact), ``title:SUBSTRING``.
Steps are approved in order, on one version of the statement; a new version starts the chain again;
one person approves at most one step of a version (four-eyes); a rejection sends the statement back
to draft. Only an approved version may be published, and a published statement never changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from yuqing.errors import Conflict, PermissionDenied, ValidationError

STATEMENT_STATES = ("draft", "in_review", "approved", "published", "withdrawn")


@dataclass(frozen=True)
class PersonFacts:
    key: str
    department: str | None = None
    title: str | None = None
    roles: tuple[tuple[str, str], ...] = ()  # (group_key, role)
    active: bool = True


@dataclass(frozen=True)
class Step:
    key: str
    name: str
    approvers: tuple[str, ...]


@dataclass(frozen=True)
class ApprovalRecord:
    step: str
    person: str
    decision: str  # approve | reject


def validate_selector(selector: str) -> None:
    kind, _, rest = selector.partition(":")
    if kind not in ("person", "group", "dept", "title") or not rest:
        raise ValidationError(
            f"无效的人员选择器 / invalid selector {selector!r} "
            "(person:KEY, group:KEY[:ROLE], dept:X, title:X)"
        )


def matches(selector: str, person: PersonFacts) -> bool:
    validate_selector(selector)
    kind, _, rest = selector.partition(":")
    if kind == "person":
        return person.key == rest
    if kind == "group":
        group, _, role = rest.partition(":")
        return any(g == group and (not role or r == role) for g, r in person.roles)
    if kind == "dept":
        return (person.department or "") == rest
    return rest.lower() in (person.title or "").lower()


def matches_any(selectors: Sequence[str], person: PersonFacts) -> bool:
    return person.active and any(matches(s, person) for s in selectors)


def approved_steps(chain: Sequence[Step], records: Sequence[ApprovalRecord]) -> list[str]:
    """Steps approved so far on the current version (records after a rejection do not exist)."""
    done = {r.step for r in records if r.decision == "approve"}
    return [s.key for s in chain if s.key in done]


def next_step(chain: Sequence[Step], records: Sequence[ApprovalRecord]) -> Step | None:
    done = set(approved_steps(chain, records))
    for step in chain:
        if step.key not in done:
            return step
    return None


def check_approval(
    chain: Sequence[Step],
    records: Sequence[ApprovalRecord],
    status: str,
    person: PersonFacts,
    covering: Sequence[PersonFacts] = (),
) -> tuple[Step, str | None]:
    """The step ``person`` approves now, and on whose behalf (None: their own authority).

    ``covering``: the people ``person`` stands in for at this moment (the plan's A/B roles: an
    unavailable approver's stand-in approves in their place). Refuses an out-of-state, unauthorised
    or duplicate approver; the four-eyes rule counts the human who approves.
    """
    if status == "published":
        raise Conflict("声明已发布，不可再审批或修改 / the statement is published and can no longer change")
    if status not in ("in_review", "draft"):
        raise Conflict(f"声明状态为 {status}，无待审批步骤 / nothing to approve in state {status}")
    if any(r.decision == "reject" for r in records):
        raise Conflict("本版本已被驳回，请先修改 / this version was rejected: revise the statement first")
    step = next_step(chain, records)
    if step is None:
        raise Conflict("审批已全部完成 / every approval step is already done")
    on_behalf_of = None
    if not matches_any(step.approvers, person):
        # A stand-in carries the authority of the absent person, whose own record may be inactive.
        principal = next(
            (c for c in covering if any(matches(sel, c) for sel in step.approvers) and c.key != person.key),
            None,
        )
        if principal is None or not person.active:
            raise PermissionDenied(
                f"{person.key} 无权审批“{step.name}”（须为 {', '.join(step.approvers)} 或其代岗人）/ "
                f"{person.key} may not approve step {step.key} "
                f"(allowed: {', '.join(step.approvers)} or their stand-in)"
            )
        on_behalf_of = principal.key
    if any(r.person == person.key and r.decision == "approve" for r in records):
        raise PermissionDenied(
            f"{person.key} 已审批本版本的其他步骤，同一人不得审批两步 / "
            f"{person.key} already approved another step of this version (four-eyes rule)"
        )
    return step, on_behalf_of


def status_after(chain: Sequence[Step], records: Sequence[ApprovalRecord]) -> str:
    if any(r.decision == "reject" for r in records):
        return "draft"
    return "approved" if next_step(chain, records) is None else "in_review"


def check_editable(status: str) -> None:
    if status == "published":
        raise Conflict("声明已发布，不可修改 / a published statement is immutable")
    if status == "withdrawn":
        raise Conflict("声明已撤回 / the statement was withdrawn")


def check_publishable(status: str) -> None:
    if status == "published":
        raise Conflict("声明已发布 / the statement is already published")
    if status != "approved":
        raise Conflict(
            f"声明须经审批链全部通过方可发布（当前 {status}）/ "
            f"a statement must be approved by the whole chain before publication (now {status})"
        )
