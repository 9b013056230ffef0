"""The emergency-response service: incidents over storage, with permissions, deadlines and timeline.

Every public function takes the :class:`AppContext` and the acting person's org key (``actor``),
opens one unit of work, checks permissions (raising :class:`PermissionDenied`), writes the change
and a hash-chained timeline entry, commits, then publishes ``incidents.changed``. Time comes only
from ``ctx.clock``. Pure rules live in the sibling modules (workflow, deadlines, playbooks,
statements, approvals, coordination, resources, timeline, review).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yuqing.core.bus import INCIDENTS_CHANGED
from yuqing.core.clock import ensure_utc
from yuqing.core.context import AppContext
from yuqing.core.contracts import LEVELS, TRIGGER_CATEGORIES, EventSnapshot, level_rank
from yuqing.errors import Conflict, NotFound, PermissionDenied, ValidationError
from yuqing.incidents import (
    approvals,
    coordination,
    deadlines,
    playbooks,
    resources,
    review,
    statements,
    workflow,
)
from yuqing.incidents import timeline as tl
from yuqing.incidents.models import (
    AgreedLine,
    CoordinationLog,
    Decision,
    ImprovementAction,
    Incident,
    IncidentDeadline,
    IncidentEvent,
    IncidentTransition,
    LineAck,
    Resource,
    ResourceRequest,
    Review,
    Statement,
    StatementApproval,
    StatementVersion,
    Task,
    TaskComment,
    TimelineEntry,
    VolumeSample,
)
from yuqing.org import service as org
from yuqing.org.models import Person

log = logging.getLogger(__name__)

TASK_STATES = ("open", "in_progress", "done", "cancelled")
# Who owns each deadline (a playbook owner role); escalations add the management group's leadership.
DEADLINE_OWNERS = {
    "report_management": "monitoring",
    "first_response": "pr",
    "holding_statement": "pr",
    "full_statement": "pr",
    "regulator_report": "compliance",
}


# --- small helpers ------------------------------------------------------------------------------


def _now(ctx: AppContext) -> datetime:
    return ensure_utc(ctx.clock.now())


def _publish(ctx: AppContext, changes: Iterable[tuple[int, str]]) -> None:
    msgs = [{"incident_id": i, "change": c} for i, c in changes]
    if msgs:
        ctx.bus.publish(INCIDENTS_CHANGED, msgs)


def _person(session: Session, key: str) -> Person:
    if not key:
        raise ValidationError(
            "须指明操作人（--as 或 YUQING_ACTOR）/ an actor is required (--as or YUQING_ACTOR)"
        )
    person = org.get_person(session, key)
    if not person.active:
        raise PermissionDenied(f"{key} 已停用 / {key} is inactive")
    return person


def _facts_of(session: Session, person: Person) -> approvals.PersonFacts:
    return approvals.PersonFacts(
        key=person.key,
        department=person.department,
        title=person.title,
        roles=tuple(org.roles_of(session, person.key)),
        active=person.active,
    )


def _require(
    session: Session,
    actor: str,
    allowed: Sequence[tuple[str, tuple[str, ...] | None]],
    what_zh: str,
    what_en: str,
) -> Person:
    """The actor, if a member of one of ``allowed`` (group, roles); else PermissionDenied."""
    person = _person(session, actor)
    roles = org.roles_of(session, actor)
    for group, wanted in allowed:
        if any(g == group and (wanted is None or r in wanted) for g, r in roles):
            return person
    names = "、".join(org.describe_group(g) + (f"（{'/'.join(r)}）" if r else "") for g, r in allowed)
    groups_en = ", ".join(g + (f" ({'/'.join(r)})" if r else "") for g, r in allowed)
    raise PermissionDenied(
        f"{actor} 无权{what_zh}，须为{names}成员 / {actor} may not {what_en}: only {groups_en} may",
        actor=actor,
    )


def _incident(session: Session, incident_id: int, *, lock: bool = True) -> Incident:
    stmt = select(Incident).where(Incident.id == incident_id)
    if lock:
        stmt = stmt.with_for_update()
    inc = session.scalar(stmt)
    if inc is None:
        raise NotFound(f"应急事件不存在 / no such incident: {incident_id}")
    return inc


def _append(
    session: Session, inc: Incident, kind: str, actor: str | None, data: dict[str, Any], at: datetime
) -> TimelineEntry:
    """Append one hash-chained timeline entry (the caller holds the incident row lock)."""
    prev = (
        None
        if inc.timeline_count == 0
        else tl.Entry(inc.timeline_count, at, "", None, {}, hash=inc.timeline_head)
    )
    entry = tl.make_entry(prev, at=at, kind=kind, actor=actor, data=data)
    row = TimelineEntry(
        incident_id=inc.id,
        seq=entry.seq,
        at=at,
        kind=kind,
        actor=actor,
        data=entry.data,
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )
    session.add(row)
    inc.timeline_head, inc.timeline_count, inc.updated_at = entry.hash, entry.seq, at
    session.flush()
    return row


def _raise_alert(ctx: AppContext, session: Session, **kwargs: Any) -> bool:
    """Raise through the alerting stage (``yuqing.alerts.service.raise_alert``) when it is installed."""
    try:
        from yuqing.alerts.service import raise_alert  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError as exc:
        if exc.name not in ("yuqing.alerts.service", "yuqing.alerts"):
            raise
        log.warning("alerts stage not available; alert not raised: %s", kwargs.get("dedup_key"))
        return False
    raise_alert(ctx, session, **kwargs)
    return True


def _playbook_set(ctx: AppContext) -> playbooks.PlaybookSet:
    cached = ctx.extras.get("incidents.playbooks")
    if cached is None:
        cached = playbooks.load_playbooks(ctx.settings.incidents.playbooks_file)
        ctx.extras["incidents.playbooks"] = cached
    book: playbooks.PlaybookSet = cached
    return book


def _dept_candidates(session: Session, column: Any, value: str, exact: bool) -> list[Person]:
    cond = column == value if exact else column.contains(value, autoescape=True)
    people = list(session.scalars(select(Person).where(cond, Person.active.is_(True))))
    mgmt = {p.key for p in org.members(session, "management")}
    return sorted(people, key=lambda p: (p.key not in mgmt, p.key))


def select_people(session: Session, selectors: Sequence[str]) -> list[Person]:
    """Active people matching selectors, in selector order (heads first within a department)."""
    out: dict[str, Person] = {}
    for sel in selectors:
        approvals.validate_selector(sel)
        kind, _, rest = sel.partition(":")
        found: list[Person]
        if kind == "person":
            found = [p for p in session.scalars(select(Person).where(Person.key == rest))]
        elif kind == "group":
            group, _, role = rest.partition(":")
            found = org.members(session, group, (role,) if role else None)
        elif kind == "dept":
            found = _dept_candidates(session, Person.department, rest, exact=True)
        else:
            found = _dept_candidates(session, Person.title, rest, exact=False)
        for p in found:
            if p.active:
                out.setdefault(p.key, p)
    return list(out.values())


def resolve_role(ctx: AppContext, session: Session, role: str, at: datetime) -> Person | None:
    """The person who owns a playbook role now (their stand-in when unavailable)."""
    selectors = _playbook_set(ctx).roles.get(role)
    if selectors is None:
        raise ValidationError(f"未知负责角色 / unknown owner role: {role}")
    people = select_people(session, selectors)
    return org.available(session, people[0], at) if people else None


def _leadership(session: Session, step: int) -> list[str]:
    roles: tuple[str, ...] = ("leader",) if step < 2 else ("leader", "deputy")
    return [p.key for p in org.members(session, "management", roles)]


def load_snapshot(session: Session, event_id: int) -> EventSnapshot:
    """An event's snapshot through the events stage's contract."""
    try:
        from yuqing.events.service import load_snapshot as _load  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError as exc:
        raise ValidationError(
            "事件模块不可用，请直接提供事件快照 / the events stage is not installed; pass an EventSnapshot"
        ) from exc
    snap: EventSnapshot = _load(session, event_id)
    return snap


# --- opening and linking -------------------------------------------------------------------------


def _sync_deadlines(session: Session, ctx: AppContext, inc: Incident) -> list[str]:
    """Create/retime unmet deadlines for the incident's level; drop unmet ones no longer required."""
    specs = {d.kind: d for d in deadlines.compute_deadlines(inc.level, inc.opened_at, ctx.settings.incidents)}
    rows = {
        d.kind: d
        for d in session.scalars(select(IncidentDeadline).where(IncidentDeadline.incident_id == inc.id))
    }
    changed = []
    for kind, spec in specs.items():
        row = rows.get(kind)
        if row is None:
            session.add(IncidentDeadline(incident_id=inc.id, kind=kind, due_at=spec.due_at))
            changed.append(kind)
        elif row.met_at is None and row.due_at != spec.due_at:
            row.due_at = spec.due_at
            changed.append(kind)
    for kind, row in rows.items():
        if kind not in specs and row.met_at is None:
            session.delete(row)
            changed.append(kind)
    session.flush()
    return changed


def _meet(session: Session, inc: Incident, kinds: Sequence[str], at: datetime) -> list[str]:
    met = []
    for row in session.scalars(
        select(IncidentDeadline).where(
            IncidentDeadline.incident_id == inc.id, IncidentDeadline.kind.in_(kinds)
        )
    ):
        if row.met_at is None:
            row.met_at = at
            met.append(row.kind)
    for kind in met:
        _append(
            session,
            inc,
            "deadline_met",
            None,
            {"deadline": kind, "label": deadlines.deadline_label(kind)},
            at,
        )
    return met


def _snapshot_data(s: EventSnapshot) -> dict[str, Any]:
    return {
        "event_id": s.event_id,
        "title": s.title,
        "level": s.level,
        "mention_count": s.mention_count,
        "negative_count": s.negative_count,
        "negative_share": round(s.negative_share, 4),
        "first_seen": tl.iso(s.first_seen),
    }


def _link(
    session: Session, inc: Incident, snap: EventSnapshot, actor: str, at: datetime
) -> IncidentEvent | None:
    existing = session.scalar(
        select(IncidentEvent).where(
            IncidentEvent.incident_id == inc.id, IncidentEvent.event_id == snap.event_id
        )
    )
    if existing is not None:
        return None
    link = IncidentEvent(
        incident_id=inc.id,
        event_id=snap.event_id,
        linked_at=at,
        linked_by=actor,
        level=snap.level,
        mention_count=snap.mention_count,
        negative_count=snap.negative_count,
        last_volume_entry_at=at,
    )
    session.add(link)
    session.add(
        VolumeSample(
            incident_id=inc.id,
            event_id=snap.event_id,
            at=at,
            mention_count=snap.mention_count,
            negative_count=snap.negative_count,
        )
    )
    first_seen = ensure_utc(snap.first_seen)
    if inc.first_seen is None or first_seen < inc.first_seen:
        inc.first_seen = first_seen
    _append(session, inc, "event_linked", actor, _snapshot_data(snap), at)
    return link


def _create_playbook_tasks(
    ctx: AppContext, session: Session, inc: Incident, actor: str, at: datetime, key: str | None = None
) -> list[Task]:
    book = _playbook_set(ctx)
    pb = book.get(key) if key else playbooks.select_playbook(book, inc.category, inc.risk_type)
    inc.playbook_key = pb.key
    tasks = []
    for spec in playbooks.expand(pb, inc.level, inc.opened_at):
        owner = resolve_role(ctx, session, spec.owner, at)
        task = Task(
            incident_id=inc.id,
            key=spec.key,
            title=spec.title,
            description=spec.description,
            owner_role=spec.owner,
            assignee=owner.key if owner else None,
            due_at=spec.due_at,
            status="open",
            created_at=at,
            created_by=actor,
        )
        session.add(task)
        tasks.append(task)
    session.flush()
    _append(
        session,
        inc,
        "playbook_applied",
        actor,
        {
            "playbook": pb.key,
            "name": pb.name,
            "tasks": [
                {"id": t.id, "title": t.title, "assignee": t.assignee, "due_at": tl.iso(t.due_at)}
                for t in tasks
                if t.due_at
            ],
        },
        at,
    )
    return tasks


def open_incident(
    ctx: AppContext,
    *,
    actor: str,
    title: str | None = None,
    level: str | None = None,
    summary: str = "",
    category: str | None = None,
    risk_type: str | None = None,
    event_ids: Sequence[int] = (),
    snapshots: Sequence[EventSnapshot] = (),
    playbook: str | None = None,
    facts: Sequence[str] = (),
    actions: Sequence[str] = (),
    apply_playbook: bool = True,
) -> Incident:
    """Open an incident from events (ids read through the events stage, or snapshots) or by hand."""
    now = _now(ctx)
    if category is not None and category not in TRIGGER_CATEGORIES:
        raise ValidationError(
            f"未知风险来源 / unknown category: {category} ({', '.join(TRIGGER_CATEGORIES)})"
        )
    with ctx.db.session() as session:
        _person(session, actor)
        snaps = list(snapshots) + [load_snapshot(session, e) for e in event_ids]
        graded = [s.level for s in snaps if s.level]
        if level is None:
            if not graded:
                raise ValidationError("须指定等级（I-IV）/ a level (I-IV) is required")
            level = max(graded, key=level_rank)
        workflow.check_level(level)
        if not title:
            if not snaps:
                raise ValidationError("手工开启须有标题 / an incident opened by hand needs a title")
            title = max(snaps, key=lambda s: s.mention_count).title
        if risk_type is None:
            risk_type = next((s.risk_type for s in snaps if s.risk_type), None)
        inc = Incident(
            title=title[:500],
            summary=summary,
            level=level,
            status="reported",
            category=category,
            risk_type=risk_type,
            opened_by=actor,
            opened_at=now,
            facts={"facts": list(facts), "actions": list(actions)},
            timeline_head=tl.GENESIS,
            timeline_count=0,
            created_at=now,
            updated_at=now,
        )
        session.add(inc)
        session.flush()
        session.add(
            IncidentTransition(incident_id=inc.id, from_state=None, to_state="reported", actor=actor, at=now)
        )
        _append(
            session,
            inc,
            "opened",
            actor,
            {
                "title": inc.title,
                "level": level,
                "category": category,
                "risk_type": risk_type,
                "summary": summary,
            },
            now,
        )
        for snap in snaps:
            _link(session, inc, snap, actor, now)
        _sync_deadlines(session, ctx, inc)
        _append(
            session,
            inc,
            "deadlines_set",
            None,
            {
                d.kind: tl.iso(d.due_at)
                for d in deadlines.compute_deadlines(level, now, ctx.settings.incidents)
            },
            now,
        )
        if apply_playbook:
            _create_playbook_tasks(ctx, session, inc, actor, now, playbook)
        _report_to_management(ctx, session, inc, actor, now, "opened")
    _publish(ctx, [(inc.id, "opened")])
    return inc


def _report_to_management(
    ctx: AppContext, session: Session, inc: Incident, actor: str, at: datetime, why: str
) -> None:
    """Alert the management group (and the response leader) that an incident opened or escalated."""
    if not org.has_org(session):
        return
    recipients = [p.key for p in org.members(session, "management")]
    recipients += [p.key for p in org.members(session, "response", ("leader",))]
    recipients = list(dict.fromkeys(recipients))
    verb = (
        "启动应急处置 / incident opened"
        if why == "opened"
        else f"等级升至 {inc.level} / escalated to {inc.level}"
    )
    raised = _raise_alert(
        ctx,
        session,
        kind="incident_reported",
        title=f"{verb}: #{inc.id} [{inc.level}] {inc.title}",
        level=inc.level,
        reasons=[f"{actor} 报告 / reported by {actor}", inc.summary or inc.title],
        subject_type="incident",
        subject_id=inc.id,
        dedup_key=f"incident:{inc.id}:reported:{inc.level}",
        recipients=recipients,
        data={"incident_id": inc.id, "level": inc.level, "why": why},
    )
    _append(session, inc, "reported_to_management", None, {"recipients": recipients, "raised": raised}, at)


def link_event(
    ctx: AppContext,
    incident_id: int,
    *,
    actor: str,
    event_id: int | None = None,
    snapshot: EventSnapshot | None = None,
) -> bool:
    now = _now(ctx)
    with ctx.db.session() as session:
        _person(session, actor)
        inc = _incident(session, incident_id)
        snap = snapshot or load_snapshot(session, int(event_id or 0))
        linked = _link(session, inc, snap, actor, now) is not None
    if linked:
        _publish(ctx, [(incident_id, "event_linked")])
    return linked


# --- lifecycle -------------------------------------------------------------------------------------


def transition(ctx: AppContext, incident_id: int, to_state: str, *, actor: str, reason: str = "") -> Incident:
    """Move the incident; records who, when and why; refused moves raise Conflict / PermissionDenied."""
    now = _now(ctx)
    with ctx.db.session() as session:
        inc = _incident(session, incident_id)
        _person(session, actor)
        record = workflow.transition(inc.status, to_state, actor=actor, at=now, reason=reason)
        if to_state == "closed" and inc.level in ("I", "II"):
            _require(
                session,
                actor,
                [("management", None)],
                f"关闭{inc.level}级事件",
                f"close a level {inc.level} incident",
            )
        if to_state == "cancelled":
            _require(
                session,
                actor,
                [("management", None), ("monitoring", ("leader", "deputy"))],
                "撤销事件",
                "cancel an incident",
            )
        if (inc.status, to_state) == ("closed", "responding"):
            _require(session, actor, [("management", None)], "重新开启事件", "reopen an incident")
        if to_state == "reviewed":
            rv = session.scalar(select(Review).where(Review.incident_id == inc.id))
            if rv is None or rv.status != "final":
                raise Conflict(
                    "须先完成总结评估 / the review must be finalised first (incidents review --final)"
                )
        _apply_transition(session, inc, record)
    _publish(ctx, [(incident_id, f"status:{to_state}")])
    return inc


def _apply_transition(session: Session, inc: Incident, record: workflow.TransitionRecord) -> None:
    now = record.at
    inc.status = record.to_state
    session.add(
        IncidentTransition(
            incident_id=inc.id,
            from_state=record.from_state,
            to_state=record.to_state,
            actor=record.actor,
            at=now,
            reason=record.reason,
        )
    )
    _append(
        session,
        inc,
        "transition",
        record.actor,
        {"from": record.from_state, "to": record.to_state, "reason": record.reason},
        now,
    )
    if record.to_state == "assessing" and inc.reported_at is None:
        inc.reported_at = now
        _meet(session, inc, ["report_management"], now)
    elif record.to_state == "responding":
        _meet(session, inc, ["report_management", "first_response"], now)
    elif record.to_state == "closed":
        inc.closed_at, inc.closed_by = now, record.actor
    elif record.to_state == "cancelled":
        inc.closed_at, inc.closed_by = now, record.actor
        for task in session.scalars(
            select(Task).where(Task.incident_id == inc.id, Task.status.in_(("open", "in_progress")))
        ):
            task.status = "cancelled"


def set_level(ctx: AppContext, incident_id: int, level: str, *, actor: str, reason: str = "") -> Incident:
    now = _now(ctx)
    workflow.check_level(level)
    with ctx.db.session() as session:
        inc = _incident(session, incident_id)
        _require(
            session,
            actor,
            [("management", None), ("monitoring", ("leader", "deputy"))],
            "调整等级",
            "change the level",
        )
        if not workflow.is_open(inc.status):
            raise Conflict(
                f"事件已{workflow.state_label(inc.status)}，不能调整等级 / "
                f"cannot change the level of a {inc.status} incident"
            )
        if level == inc.level:
            return inc
        old = inc.level
        inc.level = level
        _append(session, inc, "level_changed", actor, {"from": old, "to": level, "reason": reason}, now)
        changed = _sync_deadlines(session, ctx, inc)
        if level_rank(level) > level_rank(old):
            _report_to_management(ctx, session, inc, actor, now, "escalated")
        if changed:
            due = {
                d.kind: tl.iso(d.due_at)
                for d in session.scalars(
                    select(IncidentDeadline).where(IncidentDeadline.incident_id == inc.id)
                )
            }
            _append(session, inc, "deadlines_set", None, due, now)
    _publish(ctx, [(incident_id, "level")])
    return inc


def decide(
    ctx: AppContext,
    incident_id: int,
    *,
    actor: str,
    participants: Sequence[str] = (),
    assessment: str = "",
    strategy: str = "",
    instructions: Sequence[str] = (),
    level: str | None = None,
) -> Decision:
    """Record a management decision (assessment meeting: participants, assessment, strategy, instructions)."""
    now = _now(ctx)
    if level is not None:
        workflow.check_level(level)
    with ctx.db.session() as session:
        inc = _incident(session, incident_id)
        _require(session, actor, [("management", None)], "记录管理决策", "record a management decision")
        for key in participants:
            org.get_person(session, key)
        if not (assessment or strategy or instructions):
            raise ValidationError(
                "决策内容不能为空 / a decision needs an assessment, strategy or instructions"
            )
        decision = Decision(
            incident_id=inc.id,
            at=now,
            actor=actor,
            participants=list(dict.fromkeys([actor, *participants])),
            assessment=assessment,
            strategy=strategy,
            instructions=list(instructions),
            level=level,
        )
        session.add(decision)
        session.flush()
        _append(
            session,
            inc,
            "decision",
            actor,
            {
                "decision_id": decision.id,
                "participants": decision.participants,
                "assessment": assessment,
                "strategy": strategy,
                "instructions": list(instructions),
                "level": level,
            },
            now,
        )
        if level is not None and level != inc.level and workflow.is_open(inc.status):
            old, inc.level = inc.level, level
            _append(
                session, inc, "level_changed", actor, {"from": old, "to": level, "reason": "decision"}, now
            )
            _sync_deadlines(session, ctx, inc)
    _publish(ctx, [(incident_id, "decision")])
    return decision


# --- tasks -----------------------------------------------------------------------------------------

TASK_MANAGERS: list[tuple[str, tuple[str, ...] | None]] = [("management", None), ("response", None)]


def _task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"任务不存在 / no such task: {task_id}")
    return task


def _stands_in_for(session: Session, actor: str, person_key: str | None, at: datetime) -> bool:
    """True when ``actor`` is who currently acts for ``person_key`` (an org stand-in)."""
    if not person_key:
        return False
    try:
        person = org.get_person(session, person_key)
    except NotFound:
        return False
    return org.available(session, person, at).key == actor


def add_task(
    ctx: AppContext,
    incident_id: int,
    *,
    actor: str,
    title: str,
    assignee: str | None = None,
    owner_role: str | None = None,
    due_in_hours: float | None = None,
    description: str = "",
) -> Task:
    now = _now(ctx)
    if not title.strip():
        raise ValidationError("任务标题不能为空 / a task needs a title")
    with ctx.db.session() as session:
        inc = _incident(session, incident_id)
        _require(session, actor, TASK_MANAGERS, "创建任务", "create a task")
        if not workflow.is_open(inc.status):
            raise Conflict(f"事件{workflow.state_label(inc.status)}，不能新建任务 / incident is {inc.status}")
        if assignee:
            _person(session, assignee)
        elif owner_role:
            owner = resolve_role(ctx, session, owner_role, now)
            assignee = owner.key if owner else None
        task = Task(
            incident_id=inc.id,
            title=title.strip()[:500],
            description=description,
            owner_role=owner_role,
            assignee=assignee,
            due_at=now + timedelta(hours=due_in_hours) if due_in_hours is not None else None,
            status="open",
            created_at=now,
            created_by=actor,
        )
        session.add(task)
        session.flush()
        _append(
            session,
            inc,
            "task_created",
            actor,
            {
                "task_id": task.id,
                "title": task.title,
                "assignee": assignee,
                "due_at": tl.iso(task.due_at) if task.due_at else None,
            },
            now,
        )
    _publish(ctx, [(incident_id, "task")])
    return task


def assign_task(ctx: AppContext, task_id: int, assignee: str, *, actor: str) -> Task:
    now = _now(ctx)
    with ctx.db.session() as session:
        task = _task(session, task_id)
        inc = _incident(session, task.incident_id)
        _require(session, actor, TASK_MANAGERS, "分派任务", "assign a task")
        _person(session, assignee)
        if task.status in ("done", "cancelled"):
            raise Conflict(f"任务已{task.status}，不能分派 / task is {task.status}")
        old, task.assignee = task.assignee, assignee
        task.alerted_step = -1
        _append(session, inc, "task_assigned", actor, {"task_id": task.id, "from": old, "to": assignee}, now)
    _publish(ctx, [(task.incident_id, "task")])
    return task


def update_task(
    ctx: AppContext, task_id: int, *, actor: str, status: str | None = None, comment: str | None = None
) -> Task:
    """Comment on a task and/or move it (open, in_progress, done, cancelled)."""
    now = _now(ctx)
    if status is not None and status not in TASK_STATES:
        raise ValidationError(f"未知任务状态 / unknown task status: {status} ({', '.join(TASK_STATES)})")
    with ctx.db.session() as session:
        task = _task(session, task_id)
        inc = _incident(session, task.incident_id)
        if actor != task.assignee and not _stands_in_for(session, actor, task.assignee, now):
            _require(session, actor, TASK_MANAGERS, "更新他人的任务", "update someone else's task")
        else:
            _person(session, actor)
        if comment:
            session.add(TaskComment(task_id=task.id, author=actor, at=now, text=comment))
            _append(session, inc, "task_comment", actor, {"task_id": task.id, "text": comment}, now)
        if status is not None and status != task.status:
            if task.status in ("done", "cancelled"):
                raise Conflict(f"任务已{task.status} / task is already {task.status}")
            old, task.status = task.status, status
            if status == "done":
                task.completed_at, task.completed_by = now, actor
            _append(
                session,
                inc,
                "task_status",
                actor,
                {"task_id": task.id, "title": task.title, "from": old, "to": status},
                now,
            )
    _publish(ctx, [(task.incident_id, "task")])
    return task


# --- statements -----------------------------------------------------------------------------------

STATEMENT_WRITERS: list[tuple[str, tuple[str, ...] | None]] = [("response", None)]


def _chain(ctx: AppContext) -> list[approvals.Step]:
    return [approvals.Step(s.key, s.name, tuple(s.approvers)) for s in ctx.settings.incidents.approval_chain]


def statement_facts(ctx: AppContext, session: Session, inc: Incident) -> statements.StatementFacts:
    tz = ZoneInfo(ctx.settings.timezone)
    now = _now(ctx)
    acts = list(inc.facts.get("actions") or [])
    if not acts:
        for d in session.scalars(
            select(Decision).where(Decision.incident_id == inc.id).order_by(Decision.at)
        ):
            acts.extend(d.instructions)
    return statements.StatementFacts(
        firm=ctx.settings.incidents.firm_name,
        subject=inc.title,
        summary=inc.summary or inc.title,
        level=inc.level,
        opened_at=inc.opened_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        date=now.astimezone(tz).strftime("%Y年%m月%d日"),
        hotline=ctx.settings.incidents.customer_hotline,
        facts=tuple(inc.facts.get("facts") or ()),
        actions=tuple(acts),
    )


def _statement(session: Session, statement_id: int, *, lock: bool = True) -> Statement:
    stmt = select(Statement).where(Statement.id == statement_id)
    if lock:
        stmt = stmt.with_for_update()
    st = session.scalar(stmt)
    if st is None:
        raise NotFound(f"声明不存在 / no such statement: {statement_id}")
    return st


def draft_statement(
    ctx: AppContext, incident_id: int, *, actor: str, kind: str, lang: str = "zh", body: str | None = None
) -> Statement:
    """A new statement; its first version is ``body`` or the template filled with the incident's facts."""
    now = _now(ctx)
    with ctx.db.session() as session:
        inc = _incident(session, incident_id)
        _require(session, actor, STATEMENT_WRITERS, "起草声明", "draft a statement")
        if inc.status in workflow.TERMINAL_STATES:
            raise Conflict(f"事件{workflow.state_label(inc.status)} / incident is {inc.status}")
        statements.template_name(kind, lang)
        text = (
            statements.normalise_text(body)
            if body
            else statements.render_statement(
                kind,
                statement_facts(ctx, session, inc),
                lang=lang,
                templates_dir=ctx.settings.incidents.templates_dir,
            )
        )
        st = Statement(
            incident_id=inc.id,
            kind=kind,
            lang=lang,
            title=statements.title_of(text),
            status="draft",
            current_version=1,
            created_at=now,
            created_by=actor,
        )
        session.add(st)
        session.flush()
        session.add(
            StatementVersion(
                statement_id=st.id,
                number=1,
                body=text,
                sha256=statements.body_hash(text),
                created_at=now,
                created_by=actor,
            )
        )
        _append(
            session,
            inc,
            "statement_drafted",
            actor,
            {
                "statement_id": st.id,
                "kind": kind,
                "lang": lang,
                "title": st.title,
                "version": 1,
                "sha256": statements.body_hash(text),
            },
            now,
        )
    _publish(ctx, [(incident_id, "statement")])
    return st


def revise_statement(
    ctx: AppContext, statement_id: int, *, actor: str, body: str, note: str = ""
) -> StatementVersion:
    """A new version (approvals start again); a published statement is refused."""
    now = _now(ctx)
    text = statements.normalise_text(body)
    if not text.strip():
        raise ValidationError("声明内容不能为空 / a statement cannot be empty")
    with ctx.db.session() as session:
        st = _statement(session, statement_id)
        approvals.check_editable(st.status)
        inc = _incident(session, st.incident_id)
        _require(session, actor, STATEMENT_WRITERS, "修改声明", "edit a statement")
        st.current_version += 1
        st.status = "draft"
        st.title = statements.title_of(text)
        ver = StatementVersion(
            statement_id=st.id,
            number=st.current_version,
            body=text,
            sha256=statements.body_hash(text),
            created_at=now,
            created_by=actor,
            note=note,
        )
        session.add(ver)
        _append(
            session,
            inc,
            "statement_revised",
            actor,
            {"statement_id": st.id, "version": ver.number, "sha256": ver.sha256, "note": note},
            now,
        )
    _publish(ctx, [(st.incident_id, "statement")])
    return ver


def _records(session: Session, st: Statement) -> list[approvals.ApprovalRecord]:
    rows = session.scalars(
        select(StatementApproval)
        .where(StatementApproval.statement_id == st.id, StatementApproval.version == st.current_version)
        .order_by(StatementApproval.id)
    )
    return [approvals.ApprovalRecord(r.step, r.person, r.decision) for r in rows]


def approve_statement(
    ctx: AppContext, statement_id: int, *, actor: str, reject: bool = False, comment: str = ""
) -> Statement:
    """Approve (or reject) the next step of the chain on the current version."""
    now = _now(ctx)
    with ctx.db.session() as session:
        st = _statement(session, statement_id)
        inc = _incident(session, st.incident_id)
        person = _person(session, actor)
        chain = _chain(ctx)
        records = _records(session, st)
        covering = [_facts_of(session, p) for p in org.stood_in_for(session, person, now)]
        step, on_behalf_of = approvals.check_approval(
            chain, records, st.status, _facts_of(session, person), covering
        )
        decision = "reject" if reject else "approve"
        if reject and not comment.strip():
            raise ValidationError("驳回须说明理由 / a rejection needs a comment")
        session.add(
            StatementApproval(
                statement_id=st.id,
                version=st.current_version,
                step=step.key,
                person=actor,
                on_behalf_of=on_behalf_of,
                decision=decision,
                comment=comment,
                at=now,
            )
        )
        records.append(approvals.ApprovalRecord(step.key, actor, decision))
        st.status = approvals.status_after(chain, records)
        _append(
            session,
            inc,
            "statement_approval",
            actor,
            {
                "statement_id": st.id,
                "version": st.current_version,
                "step": step.key,
                "decision": decision,
                "on_behalf_of": on_behalf_of,
                "comment": comment,
                "status": st.status,
            },
            now,
        )
    _publish(ctx, [(st.incident_id, "statement")])
    return st


def publish_statement(
    ctx: AppContext, statement_id: int, *, actor: str, channel: str, link: str | None = None
) -> Statement:
    """Mark an approved statement published (channel, time, link); from then on it is immutable."""
    now = _now(ctx)
    if not channel.strip():
        raise ValidationError("须指明发布渠道 / a publication channel is required")
    with ctx.db.session() as session:
        st = _statement(session, statement_id)
        approvals.check_publishable(st.status)
        inc = _incident(session, st.incident_id)
        _require(session, actor, STATEMENT_WRITERS, "发布声明", "publish a statement")
        ver = session.scalar(
            select(StatementVersion).where(
                StatementVersion.statement_id == st.id, StatementVersion.number == st.current_version
            )
        )
        assert ver is not None
        st.status, st.published_at, st.published_by, st.channel, st.link = (
            "published",
            now,
            actor,
            channel,
            link,
        )
        _append(
            session,
            inc,
            "statement_published",
            actor,
            {
                "statement_id": st.id,
                "kind": st.kind,
                "title": st.title,
                "version": ver.number,
                "sha256": ver.sha256,
                "channel": channel,
                "link": link,
            },
            now,
        )
        met = {
            "holding": ["holding_statement"],
            "full": ["holding_statement", "full_statement"],
            "clarification": ["holding_statement"],
            "regulator_report": ["regulator_report"],
        }[st.kind]
        _meet(session, inc, met, now)
    _publish(ctx, [(st.incident_id, "statement_published")])
    return st


def statement_body(ctx: AppContext, statement_id: int, version: int | None = None) -> str:
    with ctx.db.session() as session:
        st = _statement(session, statement_id, lock=False)
        number = version or st.current_version
        ver = session.scalar(
            select(StatementVersion).where(
                StatementVersion.statement_id == st.id, StatementVersion.number == number
            )
        )
        if ver is None:
            raise NotFound(f"声明版本不存在 / no version {number} of statement {statement_id}")
        return ver.body


# --- coordination -----------------------------------------------------------------------------------


def log_coordination(
    ctx: AppContext,
    incident_id: int,
    *,
    actor: str,
    message: str,
    channel: str = "meeting",
    audience: str = "",
) -> CoordinationLog:
    now = _now(ctx)
    coordination.check_channel(channel)
    if not message.strip():
        raise ValidationError("沟通内容不能为空 / a message is required")
    with ctx.db.session() as session:
        inc = _incident(session, incident_id)
        _person(session, actor)
        if not org.roles_of(session, actor):
            raise PermissionDenied(f"{actor} 不属于任何应急小组 / {actor} is in no response group")
        row = CoordinationLog(
            incident_id=inc.id, at=now, actor=actor, channel=channel, audience=audience, message=message
        )
        session.add(row)
        session.flush()
        _append(
            session,
            inc,
            "coordination",
            actor,
            {"log_id": row.id, "channel": channel, "audience": audience, "message": message},
            now,
        )
    _publish(ctx, [(incident_id, "coordination")])
    return row


def department_heads(session: Session) -> list[str]:
    return [p.key for p in org.members(session, "management", ("deputy", "member")) if p.active]


def set_agreed_line(ctx: AppContext, incident_id: int, *, actor: str, text: str) -> AgreedLine:
    """Set the single agreed line (口径); each department head must acknowledge this version."""
    now = _now(ctx)
    text = coordination.check_line_text(text)
    with ctx.db.session() as session:
        inc = _incident(session, incident_id)
        _require(
            session,
            actor,
            [("management", None), ("response", ("leader",))],
            "确定统一口径",
            "set the agreed line",
        )
        version = (
            session.scalar(select(func.max(AgreedLine.version)).where(AgreedLine.incident_id == inc.id)) or 0
        ) + 1
        line = AgreedLine(
            incident_id=inc.id,
            version=version,
            text=text,
            required=department_heads(session),
            set_by=actor,
            set_at=now,
        )
        session.add(line)
        session.flush()
        _append(
            session,
            inc,
            "agreed_line",
            actor,
            {"line_id": line.id, "version": version, "text": text, "required": line.required},
            now,
        )
    _publish(ctx, [(incident_id, "agreed_line")])
    return line


def current_line(session: Session, incident_id: int) -> AgreedLine | None:
    return session.scalar(
        select(AgreedLine)
        .where(AgreedLine.incident_id == incident_id)
        .order_by(AgreedLine.version.desc())
        .limit(1)
    )


def acknowledge_line(ctx: AppContext, incident_id: int, *, actor: str) -> coordination.LineStatus:
    now = _now(ctx)
    with ctx.db.session() as session:
        inc = _incident(session, incident_id)
        _person(session, actor)
        line = current_line(session, incident_id)
        if line is None:
            raise NotFound(f"事件 {incident_id} 尚无统一口径 / incident {incident_id} has no agreed line yet")
        if actor not in line.required:
            raise PermissionDenied(
                f"{actor} 不在须确认口径的部门负责人之列 / "
                f"{actor} is not a department head asked to acknowledge"
            )
        acked = [a.person for a in session.scalars(select(LineAck).where(LineAck.line_id == line.id))]
        if actor not in acked:
            session.add(LineAck(line_id=line.id, person=actor, at=now))
            acked.append(actor)
            status = coordination.line_status(line.version, line.required, acked)
            _append(
                session,
                inc,
                "line_acknowledged",
                actor,
                {"line_id": line.id, "version": line.version, "pending": list(status.pending)},
                now,
            )
        status = coordination.line_status(line.version, line.required, acked)
    _publish(ctx, [(incident_id, "agreed_line")])
    return status


def line_status(ctx: AppContext, incident_id: int) -> coordination.LineStatus | None:
    with ctx.db.session() as session:
        line = current_line(session, incident_id)
        if line is None:
            return None
        acked = [a.person for a in session.scalars(select(LineAck).where(LineAck.line_id == line.id))]
        return coordination.line_status(line.version, line.required, acked)


# --- resources ---------------------------------------------------------------------------------------

RESOURCE_KEEPERS: list[tuple[str, tuple[str, ...] | None]] = [("logistics", None), ("management", None)]


def add_resource(
    ctx: AppContext,
    *,
    actor: str,
    kind: str,
    name: str,
    description: str = "",
    owner: str | None = None,
    expires_at: datetime | None = None,
    contacts: Sequence[tuple[str, str]] = (),
    last_tested_at: datetime | None = None,
    details: dict[str, Any] | None = None,
) -> Resource:
    now = _now(ctx)
    resources.check_kind(kind)
    if not name.strip():
        raise ValidationError("资源名称不能为空 / a resource needs a name")
    with ctx.db.session() as session:
        _require(session, actor, RESOURCE_KEEPERS, "登记资源", "register a resource")
        if owner:
            org.get_person(session, owner)
        if (
            session.scalar(select(Resource.id).where(Resource.kind == kind, Resource.name == name))
            is not None
        ):
            raise Conflict(f"资源已存在 / resource already exists: {kind}/{name}")
        res = Resource(
            kind=kind,
            name=name.strip(),
            description=description,
            owner=owner,
            expires_at=ensure_utc(expires_at) if expires_at else None,
            contacts=[[c, a] for c, a in contacts],
            last_tested_at=ensure_utc(last_tested_at) if last_tested_at else None,
            details=details or {},
            active=True,
            created_at=now,
            last_problems=[],
        )
        session.add(res)
    return res


def list_resources(ctx: AppContext, kind: str | None = None) -> list[Resource]:
    with ctx.db.session() as session:
        stmt = select(Resource).order_by(Resource.kind, Resource.name)
        if kind:
            stmt = stmt.where(Resource.kind == kind)
        return list(session.scalars(stmt))


def _resource_facts(session: Session, res: Resource, owners: dict[str, Person]) -> resources.ResourceFacts:
    contacts = [(str(c), str(a)) for c, a in (res.contacts or [])]
    person_key = (res.details or {}).get("person")
    if person_key and person_key in owners:
        contacts += org.contact_points(owners[person_key])
    owner = owners.get(res.owner or "")
    return resources.ResourceFacts(
        id=res.id,
        kind=res.kind,
        name=res.name,
        expires_at=res.expires_at,
        contacts=tuple(contacts),
        last_tested_at=res.last_tested_at,
        owner_active=owner.active if owner is not None else True,
        active=res.active,
    )


@dataclass
class ReadinessReport:
    checked: int = 0
    problems: list[tuple[int, str, resources.Problem]] = field(
        default_factory=list
    )  # (resource id, name, problem)
    alerts_raised: int = 0

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for _, _, p in self.problems)


def run_readiness_checks(ctx: AppContext) -> ReadinessReport:
    """Check every active resource; raise one alert per new problem (dedup by resource, problem, expiry)."""
    now = _now(ctx)
    cfg = ctx.settings.incidents
    report = ReadinessReport()
    with ctx.db.session() as session:
        rows = list(session.scalars(select(Resource).where(Resource.active.is_(True)).order_by(Resource.id)))
        keys = {r.owner for r in rows if r.owner} | {
            str((r.details or {}).get("person")) for r in rows if (r.details or {}).get("person")
        }
        owners = (
            {p.key: p for p in session.scalars(select(Person).where(Person.key.in_(keys)))} if keys else {}
        )
        recipients = (
            [p.key for p in org.members(session, "logistics", ("leader",))] if org.has_org(session) else []
        )
        for res in rows:
            report.checked += 1
            problems = resources.check_resource(
                _resource_facts(session, res, owners),
                now,
                expiry_warning_days=cfg.expiry_warning_days,
                equipment_test_days=cfg.equipment_test_days,
            )
            before = {p.get("code") for p in (res.last_problems or [])}
            for p in problems:
                report.problems.append((res.id, res.name, p))
                if p.code in before:
                    continue
                stamp = res.expires_at.date().isoformat() if res.expires_at else ""
                raised = _raise_alert(
                    ctx,
                    session,
                    kind="resource_readiness",
                    title=f"资源未就绪 / resource not ready: {res.name} ({p.code})",
                    level=resources.readiness_alert_level(p),
                    reasons=[p.message],
                    subject_type="resource",
                    subject_id=res.id,
                    dedup_key=f"resource:{res.id}:{p.code}:{stamp}",
                    recipients=list(dict.fromkeys([*([res.owner] if res.owner else []), *recipients]))
                    or None,
                    data={"resource_id": res.id, "kind": res.kind, "problem": p.code, **p.data},
                )
                report.alerts_raised += int(raised)
            res.last_problems = [
                {"code": p.code, "severity": p.severity, "message": p.message} for p in problems
            ]
            res.last_checked_at = now
    return report


def request_resource(
    ctx: AppContext, incident_id: int, *, actor: str, item: str, quantity: int = 1, reason: str = ""
) -> ResourceRequest:
    now = _now(ctx)
    if not item.strip() or quantity < 1:
        raise ValidationError("须指明所需物资与数量 / an item and a positive quantity are required")
    with ctx.db.session() as session:
        inc = _incident(session, incident_id)
        _person(session, actor)
        if not org.roles_of(session, actor):
            raise PermissionDenied(f"{actor} 不属于任何应急小组 / {actor} is in no response group")
        if not workflow.is_open(inc.status):
            raise Conflict(f"事件{workflow.state_label(inc.status)} / incident is {inc.status}")
        req = ResourceRequest(
            incident_id=inc.id,
            item=item.strip(),
            quantity=quantity,
            reason=reason,
            requested_by=actor,
            requested_at=now,
            status="open",
        )
        session.add(req)
        session.flush()
        _append(
            session,
            inc,
            "resource_requested",
            actor,
            {"request_id": req.id, "item": req.item, "quantity": quantity, "reason": reason},
            now,
        )
    _publish(ctx, [(incident_id, "resource_request")])
    return req


def fulfil_request(
    ctx: AppContext,
    request_id: int,
    *,
    actor: str,
    resource_id: int | None = None,
    note: str = "",
    reject: bool = False,
) -> ResourceRequest:
    """The logistics group fulfils (or rejects) a resource request."""
    now = _now(ctx)
    with ctx.db.session() as session:
        req = session.get(ResourceRequest, request_id)
        if req is None:
            raise NotFound(f"物资申请不存在 / no such resource request: {request_id}")
        inc = _incident(session, req.incident_id)
        _require(session, actor, [("logistics", None)], "处理物资申请", "fulfil a resource request")
        if req.status != "open":
            raise Conflict(f"申请已处理（{req.status}）/ request already {req.status}")
        if resource_id is not None and session.get(Resource, resource_id) is None:
            raise NotFound(f"资源不存在 / no such resource: {resource_id}")
        req.status = "rejected" if reject else "fulfilled"
        req.resource_id, req.handled_by, req.handled_at, req.note = resource_id, actor, now, note
        _append(
            session,
            inc,
            "resource_" + req.status,
            actor,
            {"request_id": req.id, "item": req.item, "resource_id": resource_id, "note": note},
            now,
        )
    _publish(ctx, [(req.incident_id, "resource_request")])
    return req


# --- deadlines and overdue alerts ---------------------------------------------------------------------


@dataclass(frozen=True)
class RaisedOverdue:
    incident_id: int
    overdue: deadlines.Overdue
    recipients: tuple[str, ...]
    raised: bool


def check_deadlines(ctx: AppContext) -> list[RaisedOverdue]:
    """Alert overdue deadlines, tasks and improvement actions; once per item per escalation step."""
    now = _now(ctx)
    cfg = ctx.settings.incidents
    every = timedelta(hours=cfg.overdue_escalation_hours)
    out: list[RaisedOverdue] = []
    touched: set[int] = set()
    with ctx.db.session() as session:
        open_incidents = {
            i.id: i
            for i in session.scalars(select(Incident).where(Incident.status.in_(workflow.OPEN_STATES)))
        }
        dl_rows = (
            list(
                session.scalars(
                    select(IncidentDeadline).where(
                        IncidentDeadline.incident_id.in_(open_incidents), IncidentDeadline.met_at.is_(None)
                    )
                )
            )
            if open_incidents
            else []
        )
        task_rows = (
            list(
                session.scalars(
                    select(Task).where(
                        Task.incident_id.in_(open_incidents),
                        Task.status.in_(("open", "in_progress")),
                        Task.due_at.is_not(None),
                    )
                )
            )
            if open_incidents
            else []
        )
        action_rows = list(
            session.execute(
                select(ImprovementAction, Review.incident_id)
                .join(Review, ImprovementAction.review_id == Review.id)
                .where(ImprovementAction.status == "open", ImprovementAction.due_at.is_not(None))
            ).all()
        )
        pending = [
            deadlines.Pending("deadline", d.id, d.kind, d.due_at, False, d.alerted_step) for d in dl_rows
        ]
        pending += [
            deadlines.Pending("task", t.id, t.key or "task", t.due_at, False, t.alerted_step)
            for t in task_rows
        ]
        pending += [
            deadlines.Pending("action", a.id, "improvement_action", a.due_at, False, a.alerted_step)
            for a, _ in action_rows
        ]
        found = deadlines.find_overdue(pending, now, every=every, max_steps=cfg.max_escalations)
        by_key: dict[tuple[str, int], IncidentDeadline | Task] = {("deadline", d.id): d for d in dl_rows}
        by_key.update({("task", t.id): t for t in task_rows})
        actions = {a.id: (a, inc_id) for a, inc_id in action_rows}
        for od in found:
            lead = _leadership(session, od.step) if od.step > 0 else []
            if od.subject == "deadline":
                d = by_key[("deadline", od.subject_id)]
                assert isinstance(d, IncidentDeadline)
                inc = open_incidents[d.incident_id]
                owner = resolve_role(ctx, session, DEADLINE_OWNERS[d.kind], now)
                recipients = tuple(dict.fromkeys([*([owner.key] if owner else []), *lead]))
                title = f"应急时限逾期 / overdue: {deadlines.deadline_label(d.kind)} — #{inc.id} {inc.title}"
                d.alerted_step = od.step
            elif od.subject == "task":
                t = by_key[("task", od.subject_id)]
                assert isinstance(t, Task)
                inc = open_incidents[t.incident_id]
                recipients = tuple(dict.fromkeys([*([t.assignee] if t.assignee else []), *lead]))
                title = f"任务逾期 / overdue task: {t.title} — #{inc.id}"
                t.alerted_step = od.step
            else:
                a, inc_id = actions[od.subject_id]
                inc = session.get(Incident, inc_id)  # type: ignore[assignment]
                recipients = tuple(dict.fromkeys([a.owner, *lead]))
                title = f"改进措施逾期 / overdue improvement action: {a.title} — #{inc_id}"
                a.alerted_step = od.step
            hours = od.overdue_by.total_seconds() / 3600
            raised = _raise_alert(
                ctx,
                session,
                kind=f"incident_overdue_{od.subject}",
                title=title,
                level=deadlines.overdue_alert_level(inc.level, od.step),
                reasons=[
                    f"已逾期 {hours:.1f} 小时（第 {od.step + 1} 次提醒）/ "
                    f"overdue by {hours:.1f} h (escalation {od.step + 1})"
                ],
                subject_type="incident",
                subject_id=inc.id,
                dedup_key=f"incident:{inc.id}:{od.subject}:{od.subject_id}:step{od.step}",
                recipients=list(recipients) or None,
                data={
                    "subject": od.subject,
                    "subject_id": od.subject_id,
                    "kind": od.kind,
                    "due_at": od.due_at.isoformat(),
                    "step": od.step,
                },
            )
            if workflow.is_open(inc.status):
                locked = _incident(session, inc.id)
                _append(
                    session,
                    locked,
                    "overdue_alert",
                    None,
                    {
                        "subject": od.subject,
                        "subject_id": od.subject_id,
                        "kind": od.kind,
                        "step": od.step,
                        "recipients": list(recipients),
                        "raised": raised,
                    },
                    now,
                )
                touched.add(inc.id)
            out.append(RaisedOverdue(inc.id, od, recipients, raised))
    _publish(ctx, [(i, "overdue") for i in sorted(touched)])
    return out


# --- events -> incidents (the stage handler) ------------------------------------------------------------


def on_events_changed(ctx: AppContext, messages: list[dict[str, Any]]) -> None:
    """Land linked events' level changes and volume in the timeline; suggest / auto-open when configured."""
    event_ids = sorted({int(m["event_id"]) for m in messages if m.get("event_id") is not None})
    if not event_ids:
        return
    now = _now(ctx)
    cfg = ctx.settings.incidents
    changed: list[tuple[int, str]] = []
    try:
        from yuqing.events.service import load_snapshot as _load  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError:
        log.warning("events stage not available; events.changed ignored by incidents")
        return
    with ctx.db.session() as session:
        links = list(
            session.execute(
                select(IncidentEvent, Incident.status)
                .join(Incident, Incident.id == IncidentEvent.incident_id)
                .where(IncidentEvent.event_id.in_(event_ids))
            ).all()
        )
        snaps: dict[int, EventSnapshot] = {}
        for eid in event_ids:
            try:
                snaps[eid] = _load(session, eid)
            except NotFound:
                continue
        linked_open: set[int] = set()
        for link, status in links:
            snap = snaps.get(link.event_id)
            if snap is None or status in workflow.TERMINAL_STATES:
                continue
            if workflow.is_open(status):
                linked_open.add(link.event_id)
            entries = _event_updates(link, snap, now, cfg.volume_entry_minutes)
            if not entries and (snap.mention_count, snap.negative_count) == (
                link.mention_count,
                link.negative_count,
            ):
                continue
            inc = _incident(session, link.incident_id)
            _record_sample(session, link, snap, now)
            for kind, data in entries:
                _append(session, inc, kind, None, data, now)
                changed.append((inc.id, kind))
        _suggest(ctx, session, [s for e, s in snaps.items() if e not in linked_open], now)
    if cfg.auto_open_level:
        _auto_open(ctx, [s for e, s in snaps.items() if e not in {lk.event_id for lk, _ in links}])
    _publish(ctx, sorted(set(changed)))


def _event_updates(
    link: IncidentEvent, snap: EventSnapshot, now: datetime, minutes: float
) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    if snap.level != link.level:
        out.append(
            (
                "event_level",
                {
                    "event_id": snap.event_id,
                    "from": link.level,
                    "to": snap.level,
                    "reasons": list(snap.level_reasons),
                },
            )
        )
        link.level = snap.level
    counts_changed = (snap.mention_count, snap.negative_count) != (link.mention_count, link.negative_count)
    due = link.last_volume_entry_at is None or now - link.last_volume_entry_at >= timedelta(minutes=minutes)
    if counts_changed and due:
        out.append(
            (
                "event_volume",
                {
                    "event_id": snap.event_id,
                    "mention_count": snap.mention_count,
                    "negative_count": snap.negative_count,
                    "negative_share": round(snap.negative_share, 4),
                },
            )
        )
        link.last_volume_entry_at = now
    return out


def _record_sample(session: Session, link: IncidentEvent, snap: EventSnapshot, now: datetime) -> None:
    link.mention_count, link.negative_count = snap.mention_count, snap.negative_count
    row = session.scalar(
        select(VolumeSample).where(
            VolumeSample.incident_id == link.incident_id,
            VolumeSample.event_id == link.event_id,
            VolumeSample.at == now,
        )
    )
    if row is None:
        session.add(
            VolumeSample(
                incident_id=link.incident_id,
                event_id=link.event_id,
                at=now,
                mention_count=snap.mention_count,
                negative_count=snap.negative_count,
            )
        )
    else:
        row.mention_count, row.negative_count = snap.mention_count, snap.negative_count


def record_volume(ctx: AppContext, incident_id: int, snapshot: EventSnapshot) -> None:
    """Record a linked event's counts now (what the events.changed handler does per event)."""
    now = _now(ctx)
    with ctx.db.session() as session:
        inc = _incident(session, incident_id)
        link = session.scalar(
            select(IncidentEvent).where(
                IncidentEvent.incident_id == inc.id, IncidentEvent.event_id == snapshot.event_id
            )
        )
        if link is None:
            raise NotFound(f"事件 {snapshot.event_id} 未关联到 #{incident_id} / event not linked")
        for kind, data in _event_updates(link, snapshot, now, ctx.settings.incidents.volume_entry_minutes):
            _append(session, inc, kind, None, data, now)
        _record_sample(session, link, snapshot, now)


def _at_or_above(level: str | None, threshold: str | None) -> bool:
    return bool(level and threshold and level in LEVELS and level_rank(level) >= level_rank(threshold))


def _suggest(ctx: AppContext, session: Session, snaps: list[EventSnapshot], now: datetime) -> None:
    cfg = ctx.settings.incidents
    for snap in snaps:
        if not _at_or_above(snap.level, cfg.suggest_level) or not org.has_org(session):
            continue
        recipients = [p.key for p in org.members(session, "management", ("leader",))]
        recipients += [p.key for p in org.members(session, "monitoring", ("leader",))]
        _raise_alert(
            ctx,
            session,
            kind="incident_suggested",
            title=f"建议启动应急处置 / open an incident? {snap.title}",
            level=str(snap.level),
            reasons=[f"事件达到 {snap.level} 级 / event reached level {snap.level}", *snap.level_reasons],
            subject_type="event",
            subject_id=snap.event_id,
            dedup_key=f"incident-suggest:event:{snap.event_id}:{snap.level}",
            recipients=recipients,
            data={"event_id": snap.event_id, "level": snap.level},
        )


def _auto_open(ctx: AppContext, snaps: list[EventSnapshot]) -> None:
    cfg = ctx.settings.incidents
    for snap in snaps:
        if not _at_or_above(snap.level, cfg.auto_open_level):
            continue
        with ctx.db.session() as session:
            if (
                session.scalar(select(IncidentEvent.id).where(IncidentEvent.event_id == snap.event_id))
                is not None
            ):
                continue
            if not org.has_org(session):
                log.warning("auto-open skipped: no organisation loaded")
                return
            actor = cfg.auto_open_actor or next(
                (p.key for p in org.members(session, "monitoring", ("leader",))), None
            )
        if actor:
            open_incident(ctx, actor=actor, snapshots=[snap], summary="自动开启 / opened automatically")


# --- review -------------------------------------------------------------------------------------------


def _published(session: Session, incident_id: int) -> list[review.PublishedStatement]:
    rows = session.scalars(
        select(Statement)
        .where(Statement.incident_id == incident_id, Statement.status == "published")
        .order_by(Statement.published_at)
    )
    return [review.PublishedStatement(s.id, s.kind, s.title, s.published_at) for s in rows if s.published_at]


def compute_review_metrics(ctx: AppContext, session: Session, inc: Incident) -> review.ReviewMetrics:
    cfg = ctx.settings.incidents
    samples = [
        review.VolumeSample(s.event_id, s.at, s.mention_count, s.negative_count)
        for s in session.scalars(
            select(VolumeSample).where(VolumeSample.incident_id == inc.id).order_by(VolumeSample.at)
        )
    ]
    return review.compute_metrics(
        opened_at=inc.opened_at,
        first_seen=inc.first_seen,
        reported_at=inc.reported_at,
        statements=_published(session, inc.id),
        samples=samples,
        now=_now(ctx),
        containment_share=cfg.containment_share,
        effect_hours=cfg.statement_effect_hours,
        bucket_minutes=cfg.volume_bucket_minutes,
    )


def write_review(
    ctx: AppContext,
    incident_id: int,
    *,
    actor: str,
    went_well: str | None = None,
    went_badly: str | None = None,
    actions: Sequence[tuple[str, str, float | None]] = (),
    final: bool = False,
) -> Review:
    """Create or update the review of a closed incident (metrics recomputed); ``final`` marks it reviewed.

    ``actions``: improvement actions as (title, owner person key, due in days or None).
    """
    now = _now(ctx)
    with ctx.db.session() as session:
        inc = _incident(session, incident_id)
        _require(
            session,
            actor,
            [("management", None), ("response", ("leader", "deputy"))],
            "撰写总结评估",
            "write the review",
        )
        if inc.status not in ("closed", "reviewed"):
            raise Conflict(
                f"事件须先关闭才能总结（当前 {workflow.state_label(inc.status)}）/ "
                f"close the incident before its review (now {inc.status})"
            )
        rv = session.scalar(select(Review).where(Review.incident_id == inc.id))
        if rv is not None and rv.status == "final":
            raise Conflict("总结评估已定稿 / the review is final")
        if rv is None:
            rv = Review(incident_id=inc.id, created_at=now, created_by=actor, status="draft")
            session.add(rv)
        metrics = compute_review_metrics(ctx, session, inc)
        rv.metrics = metrics.as_dict()
        if went_well is not None:
            rv.went_well = went_well
        if went_badly is not None:
            rv.went_badly = went_badly
        session.flush()
        for title, owner, due_days in actions:
            _person(session, owner)
            act = ImprovementAction(
                review_id=rv.id,
                title=title,
                owner=owner,
                status="open",
                created_at=now,
                due_at=now + timedelta(days=due_days) if due_days is not None else None,
            )
            session.add(act)
        session.flush()
        _append(
            session,
            inc,
            "review_updated",
            actor,
            {
                "review_id": rv.id,
                "actions_added": [a[0] for a in actions],
                "time_to_first_statement_s": metrics.time_to_first_statement_s,
                "time_to_containment_s": metrics.time_to_containment_s,
            },
            now,
        )
        if final:
            _require(session, actor, [("management", None)], "定稿总结评估", "finalise the review")
            rv.status, rv.finalised_at, rv.finalised_by = "final", now, actor
            record = workflow.transition(
                inc.status, "reviewed", actor=actor, at=now, reason="review finalised"
            )
            _apply_transition(session, inc, record)
    _publish(ctx, [(incident_id, "review")])
    return rv


def complete_action(ctx: AppContext, action_id: int, *, actor: str) -> ImprovementAction:
    now = _now(ctx)
    with ctx.db.session() as session:
        act = session.get(ImprovementAction, action_id)
        if act is None:
            raise NotFound(f"改进措施不存在 / no such improvement action: {action_id}")
        if actor != act.owner:
            _require(
                session, actor, [("management", None)], "完成他人的改进措施", "complete someone else's action"
            )
        if act.status == "done":
            return act
        act.status, act.completed_at, act.completed_by = "done", now, actor
        rv = session.get(Review, act.review_id)
        assert rv is not None
        inc = _incident(session, rv.incident_id)
        _append(session, inc, "action_done", actor, {"action_id": act.id, "title": act.title}, now)
        incident_id = inc.id
    _publish(ctx, [(incident_id, "review")])
    return act


_SUMMARY_FIELDS = (
    "title",
    "to",
    "text",
    "message",
    "deadline",
    "item",
    "decision",
    "assessment",
    "level",
    "label",
)


def _entry_summary(kind: str, data: dict[str, Any]) -> str:
    parts = []
    for k in _SUMMARY_FIELDS:
        v = data.get(k)
        if v not in (None, "", []):
            parts.append(f"{k}={v}")
    return "; ".join(parts)[:300]


def review_document(ctx: AppContext, incident_id: int) -> review.ReviewDocument:
    with ctx.db.session() as session:
        inc = _incident(session, incident_id, lock=False)
        rv = session.scalar(select(Review).where(Review.incident_id == inc.id))
        metrics = compute_review_metrics(ctx, session, inc)
        entries = list(
            session.scalars(
                select(TimelineEntry).where(TimelineEntry.incident_id == inc.id).order_by(TimelineEntry.seq)
            )
        )
        check = _verify_rows(inc, entries)
        acts = (
            list(
                session.scalars(
                    select(ImprovementAction)
                    .where(ImprovementAction.review_id == rv.id)
                    .order_by(ImprovementAction.id)
                )
            )
            if rv
            else []
        )
        sts = list(
            session.scalars(select(Statement).where(Statement.incident_id == inc.id).order_by(Statement.id))
        )
        return review.ReviewDocument(
            incident_id=inc.id,
            title=inc.title,
            level=inc.level,
            status=inc.status,
            opened_at=inc.opened_at,
            closed_at=inc.closed_at,
            metrics=metrics,
            timeline=[
                {
                    "seq": e.seq,
                    "at": e.at,
                    "kind": e.kind,
                    "actor": e.actor,
                    "summary": _entry_summary(e.kind, e.data),
                }
                for e in entries
            ],
            went_well=rv.went_well if rv else "",
            went_badly=rv.went_badly if rv else "",
            actions=[
                {"id": a.id, "title": a.title, "owner": a.owner, "due_at": a.due_at, "status": a.status}
                for a in acts
            ],
            statements=[
                {
                    "id": s.id,
                    "kind": s.kind,
                    "title": s.title,
                    "status": s.status,
                    "published_at": s.published_at,
                    "channel": s.channel,
                    "link": s.link,
                }
                for s in sts
            ],
            chain_ok=check.ok,
            timezone=ctx.settings.timezone,
            generated_at=_now(ctx),
        )


def render_review(ctx: AppContext, incident_id: int, fmt: str = "md") -> str:
    doc = review_document(ctx, incident_id)
    if fmt == "html":
        return review.render_html(doc)
    if fmt == "md":
        return review.render_markdown(doc)
    raise ValidationError(f"未知格式 / unknown format: {fmt} (md, html)")


# --- timeline and views ---------------------------------------------------------------------------------


def _verify_rows(inc: Incident, rows: Sequence[TimelineEntry]) -> tl.Verification:
    entries = [tl.Entry(r.seq, r.at, r.kind, r.actor, r.data, r.prev_hash, r.hash, r.id) for r in rows]
    return tl.verify(entries, head_hash=inc.timeline_head, count=inc.timeline_count)


def verify_timeline(ctx: AppContext, incident_id: int) -> tl.Verification:
    with ctx.db.session() as session:
        inc = _incident(session, incident_id, lock=False)
        rows = list(
            session.scalars(
                select(TimelineEntry)
                .where(TimelineEntry.incident_id == inc.id)
                .order_by(TimelineEntry.seq, TimelineEntry.id)
            )
        )
        return _verify_rows(inc, rows)


def get_timeline(ctx: AppContext, incident_id: int) -> list[TimelineEntry]:
    with ctx.db.session() as session:
        _incident(session, incident_id, lock=False)
        return list(
            session.scalars(
                select(TimelineEntry)
                .where(TimelineEntry.incident_id == incident_id)
                .order_by(TimelineEntry.seq)
            )
        )


def list_incidents(ctx: AppContext, *, open_only: bool = False) -> list[Incident]:
    with ctx.db.session() as session:
        stmt = select(Incident).order_by(Incident.id.desc())
        if open_only:
            stmt = stmt.where(Incident.status.in_(workflow.OPEN_STATES))
        return list(session.scalars(stmt))


def incident_view(ctx: AppContext, incident_id: int) -> dict[str, Any]:
    """Everything about one incident as plain data (CLI ``show``, the web API)."""
    now = _now(ctx)
    with ctx.db.session() as session:
        inc = _incident(session, incident_id, lock=False)
        dls = session.scalars(
            select(IncidentDeadline)
            .where(IncidentDeadline.incident_id == inc.id)
            .order_by(IncidentDeadline.due_at)
        )
        tasks = session.scalars(select(Task).where(Task.incident_id == inc.id).order_by(Task.due_at, Task.id))
        sts = session.scalars(select(Statement).where(Statement.incident_id == inc.id).order_by(Statement.id))
        decs = session.scalars(select(Decision).where(Decision.incident_id == inc.id).order_by(Decision.at))
        evs = session.scalars(
            select(IncidentEvent).where(IncidentEvent.incident_id == inc.id).order_by(IncidentEvent.id)
        )
        reqs = session.scalars(
            select(ResourceRequest).where(ResourceRequest.incident_id == inc.id).order_by(ResourceRequest.id)
        )
        line = current_line(session, inc.id)
        acked = (
            [a.person for a in session.scalars(select(LineAck).where(LineAck.line_id == line.id))]
            if line
            else []
        )
        return {
            "id": inc.id,
            "title": inc.title,
            "summary": inc.summary,
            "level": inc.level,
            "status": inc.status,
            "category": inc.category,
            "risk_type": inc.risk_type,
            "playbook": inc.playbook_key,
            "opened_by": inc.opened_by,
            "opened_at": inc.opened_at,
            "closed_at": inc.closed_at,
            "allowed_transitions": list(workflow.TRANSITIONS[inc.status]),
            "events": [
                {
                    "event_id": e.event_id,
                    "level": e.level,
                    "mention_count": e.mention_count,
                    "negative_count": e.negative_count,
                }
                for e in evs
            ],
            "deadlines": [
                {
                    "kind": d.kind,
                    "label": deadlines.deadline_label(d.kind),
                    "due_at": d.due_at,
                    "met_at": d.met_at,
                    "overdue": d.met_at is None and d.due_at <= now,
                }
                for d in dls
            ],
            "decisions": [
                {
                    "id": d.id,
                    "at": d.at,
                    "actor": d.actor,
                    "participants": d.participants,
                    "assessment": d.assessment,
                    "strategy": d.strategy,
                    "instructions": d.instructions,
                }
                for d in decs
            ],
            "tasks": [
                {
                    "id": t.id,
                    "title": t.title,
                    "owner_role": t.owner_role,
                    "assignee": t.assignee,
                    "due_at": t.due_at,
                    "status": t.status,
                    "overdue": t.status in ("open", "in_progress")
                    and t.due_at is not None
                    and t.due_at <= now,
                }
                for t in tasks
            ],
            "statements": [
                {
                    "id": s.id,
                    "kind": s.kind,
                    "title": s.title,
                    "status": s.status,
                    "version": s.current_version,
                    "published_at": s.published_at,
                    "channel": s.channel,
                    "link": s.link,
                }
                for s in sts
            ],
            "agreed_line": None
            if line is None
            else {
                "version": line.version,
                "text": line.text,
                "required": line.required,
                "acknowledged": acked,
                "pending": [k for k in line.required if k not in acked],
            },
            "resource_requests": [
                {
                    "id": r.id,
                    "item": r.item,
                    "quantity": r.quantity,
                    "status": r.status,
                    "requested_by": r.requested_by,
                    "handled_by": r.handled_by,
                }
                for r in reqs
            ],
            "timeline_count": inc.timeline_count,
            "timeline_head": inc.timeline_head,
        }


# --- the schedule -----------------------------------------------------------------------------------------


def readiness_due(ctx: AppContext) -> bool:
    """True when the inventory has not been fully checked within ``readiness_interval_hours``."""
    with ctx.db.session() as session:
        active = Resource.active.is_(True)
        total = session.scalar(select(func.count()).select_from(Resource).where(active)) or 0
        never = session.scalar(
            select(func.count()).select_from(Resource).where(active, Resource.last_checked_at.is_(None))
        )
        oldest = session.scalar(select(func.min(Resource.last_checked_at)).where(active))
    if total == 0:
        return False
    if never or oldest is None:
        return True
    return _now(ctx) - oldest >= timedelta(hours=ctx.settings.incidents.readiness_interval_hours)


def periodic(ctx: AppContext) -> dict[str, int]:
    """One tick of the schedule: overdue deadlines/tasks/actions every time, readiness when due.

    Call it every minute or so (``yuqing incidents watch`` does, or cron ``yuqing incidents check`` and
    ``yuqing resources check``).
    """
    overdue = check_deadlines(ctx)
    checked = alerts = 0
    if readiness_due(ctx):
        report = run_readiness_checks(ctx)
        checked, alerts = report.checked, report.alerts_raised
    return {"overdue_alerts": len(overdue), "resources_checked": checked, "readiness_alerts": alerts}
