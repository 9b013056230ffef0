"""Incidents, tasks, decisions, statements, coordination, resources and reviews.

Every change goes through ``yuqing.incidents.service`` acting as the caller's org person
(``Principal.actor``), so the incidents domain's own permission rules (groups, approval chain)
apply on top of the console roles checked here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from yuqing.core.context import AppContext
from yuqing.incidents import service as inc
from yuqing.incidents.models import (
    CoordinationLog,
    ImprovementAction,
    Incident,
    Resource,
    Review,
    Statement,
)
from yuqing.incidents.workflow import OPEN_STATES
from yuqing.web.api.common import IdPath, get_or_404, page_by_id
from yuqing.web.auth import Principal
from yuqing.web.deps import get_ctx, require
from yuqing.web.pagination import Page

router = APIRouter(tags=["incidents"])


class IncidentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    summary: str
    level: str
    status: str
    category: str | None
    risk_type: str | None
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None


class TransitionIn(BaseModel):
    to_state: str = Field(min_length=1, max_length=20)
    reason: str = Field("", max_length=2000)


class DecisionIn(BaseModel):
    participants: list[str] = []
    assessment: str = Field("", max_length=10_000)
    strategy: str = Field("", max_length=10_000)
    instructions: list[str] = []
    level: Literal["I", "II", "III", "IV"] | None = None


class TaskIn(BaseModel):
    title: str = Field(min_length=1, max_length=500)
    assignee: str | None = Field(None, max_length=100)
    owner_role: str | None = Field(None, max_length=100)
    due_in_hours: float | None = Field(None, gt=0, le=24 * 365)
    description: str = Field("", max_length=10_000)


class TaskPatch(BaseModel):
    status: Literal["open", "in_progress", "done", "cancelled"] | None = None
    comment: str | None = Field(None, max_length=10_000)


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    incident_id: int
    title: str
    assignee: str | None
    owner_role: str | None
    due_at: datetime | None
    status: str


class StatementIn(BaseModel):
    kind: Literal["holding", "full", "clarification", "regulator_report"]
    lang: Literal["zh", "en"] = "zh"
    body: str | None = Field(None, max_length=50_000)


class StatementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    incident_id: int
    kind: str
    lang: str
    title: str
    status: str
    current_version: int
    created_by: str
    published_at: datetime | None
    published_by: str | None
    channel: str | None
    link: str | None


class StatementDetail(StatementOut):
    body: str


class ApproveIn(BaseModel):
    reject: bool = False
    comment: str = Field("", max_length=5000)


class PublishIn(BaseModel):
    channel: str = Field(min_length=1, max_length=100)
    link: str | None = Field(None, max_length=2000, pattern=r"^https?://")


class CoordinationIn(BaseModel):
    message: str = Field(min_length=1, max_length=10_000)
    channel: str = Field("meeting", max_length=30)
    audience: str = Field("", max_length=300)


class CoordinationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    incident_id: int
    at: datetime
    actor: str
    channel: str
    audience: str
    message: str


class TimelineOut(BaseModel):
    seq: int
    at: datetime
    kind: str
    actor: str | None
    data: dict[str, Any]
    hash: str


class ResourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    name: str
    description: str
    owner: str | None
    expires_at: datetime | None
    last_tested_at: datetime | None
    active: bool
    last_checked_at: datetime | None
    last_problems: list[dict[str, Any]]


class ActionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    owner: str
    due_at: datetime | None
    status: str


class ReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    incident_id: int
    created_at: datetime
    created_by: str
    metrics: dict[str, Any]
    went_well: str
    went_badly: str
    status: str
    finalised_at: datetime | None
    actions: list[ActionOut] = []


@router.get("/incidents", response_model=Page[IncidentOut], summary="Incidents, newest first")
def list_incidents(
    open_only: bool = False,
    status: str | None = Query(None, max_length=20),
    limit: int | None = Query(None, ge=1, le=1000),
    cursor: str | None = Query(None, max_length=500),
    ctx: AppContext = Depends(get_ctx),
    _p: Principal = Depends(require("read")),
) -> Page[IncidentOut]:
    with ctx.db.session() as s:
        stmt = select(Incident)
        if open_only:
            stmt = stmt.where(Incident.status.in_(OPEN_STATES))
        if status:
            stmt = stmt.where(Incident.status == status)
        rows, nxt = page_by_id(ctx, s, stmt, Incident.id, "incidents", limit, cursor)
        return Page[IncidentOut](items=[IncidentOut.model_validate(r) for r in rows], next_cursor=nxt)


@router.get("/incidents/{incident_id}", summary="One incident: deadlines, tasks, decisions, statements")
def get_incident(
    incident_id: IdPath, ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("read"))
) -> dict[str, Any]:
    return inc.incident_view(ctx, incident_id)


@router.get(
    "/incidents/{incident_id}/timeline", response_model=list[TimelineOut], summary="Hash-chained timeline"
)
def get_timeline(
    incident_id: IdPath, ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("read"))
) -> list[TimelineOut]:
    return [
        TimelineOut(seq=e.seq, at=e.at, kind=e.kind, actor=e.actor, data=e.data or {}, hash=e.hash)
        for e in inc.get_timeline(ctx, incident_id)
    ]


@router.post("/incidents/{incident_id}/transition", response_model=IncidentOut, summary="Move the incident")
def post_transition(
    incident_id: IdPath,
    body: TransitionIn,
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("incidents.write")),
) -> IncidentOut:
    got = inc.transition(ctx, incident_id, body.to_state, actor=p.actor, reason=body.reason)
    return IncidentOut.model_validate(got)


@router.post("/incidents/{incident_id}/decisions", status_code=201, summary="Record a management decision")
def post_decision(
    incident_id: IdPath,
    body: DecisionIn,
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("incidents.write")),
) -> dict[str, Any]:
    d = inc.decide(
        ctx,
        incident_id,
        actor=p.actor,
        participants=body.participants,
        assessment=body.assessment,
        strategy=body.strategy,
        instructions=body.instructions,
        level=body.level,
    )
    return {"id": d.id, "incident_id": d.incident_id, "at": d.at, "actor": d.actor}


@router.post("/incidents/{incident_id}/tasks", response_model=TaskOut, status_code=201, summary="Add a task")
def post_task(
    incident_id: IdPath,
    body: TaskIn,
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("tasks.write")),
) -> TaskOut:
    t = inc.add_task(
        ctx,
        incident_id,
        actor=p.actor,
        title=body.title,
        assignee=body.assignee,
        owner_role=body.owner_role,
        due_in_hours=body.due_in_hours,
        description=body.description,
    )
    return TaskOut.model_validate(t)


@router.patch("/tasks/{task_id}", response_model=TaskOut, summary="Move or comment on a task")
def patch_task(
    task_id: IdPath,
    body: TaskPatch,
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("tasks.write")),
) -> TaskOut:
    t = inc.update_task(ctx, task_id, actor=p.actor, status=body.status, comment=body.comment)
    return TaskOut.model_validate(t)


@router.post(
    "/incidents/{incident_id}/statements",
    response_model=StatementOut,
    status_code=201,
    summary="Draft a statement",
)
def post_statement(
    incident_id: IdPath,
    body: StatementIn,
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("statements.draft")),
) -> StatementOut:
    st = inc.draft_statement(ctx, incident_id, actor=p.actor, kind=body.kind, lang=body.lang, body=body.body)
    return StatementOut.model_validate(st)


@router.get("/statements/{statement_id}", response_model=StatementDetail, summary="A statement and its text")
def get_statement(
    statement_id: IdPath, ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("read"))
) -> StatementDetail:
    with ctx.db.session() as s:
        st = get_or_404(s, Statement, statement_id, "声明 statement")
        out = StatementOut.model_validate(st).model_dump()
    return StatementDetail(**out, body=inc.statement_body(ctx, statement_id))


@router.post("/statements/{statement_id}/approve", response_model=StatementOut, summary="Approve or reject")
def post_approve(
    statement_id: IdPath,
    body: ApproveIn,
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("statements.approve")),
) -> StatementOut:
    st = inc.approve_statement(ctx, statement_id, actor=p.actor, reject=body.reject, comment=body.comment)
    return StatementOut.model_validate(st)


@router.post("/statements/{statement_id}/publish", response_model=StatementOut, summary="Mark published")
def post_publish(
    statement_id: IdPath,
    body: PublishIn,
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("statements.publish")),
) -> StatementOut:
    st = inc.publish_statement(ctx, statement_id, actor=p.actor, channel=body.channel, link=body.link)
    return StatementOut.model_validate(st)


@router.get(
    "/incidents/{incident_id}/coordination", response_model=list[CoordinationOut], summary="Coordination log"
)
def get_coordination(
    incident_id: IdPath, ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("read"))
) -> list[CoordinationOut]:
    with ctx.db.session() as s:
        get_or_404(s, Incident, incident_id, "应急事件 incident")
        rows = s.scalars(
            select(CoordinationLog)
            .where(CoordinationLog.incident_id == incident_id)
            .order_by(CoordinationLog.at)
        )
        return [CoordinationOut.model_validate(r) for r in rows]


@router.post(
    "/incidents/{incident_id}/coordination",
    response_model=CoordinationOut,
    status_code=201,
    summary="Log internal coordination",
)
def post_coordination(
    incident_id: IdPath,
    body: CoordinationIn,
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("tasks.write")),
) -> CoordinationOut:
    row = inc.log_coordination(
        ctx, incident_id, actor=p.actor, message=body.message, channel=body.channel, audience=body.audience
    )
    return CoordinationOut.model_validate(row)


@router.get("/resources", response_model=Page[ResourceOut], summary="Resource inventory (物资清单)")
def list_resources(
    kind: str | None = Query(None, max_length=30),
    limit: int | None = Query(None, ge=1, le=1000),
    cursor: str | None = Query(None, max_length=500),
    ctx: AppContext = Depends(get_ctx),
    _p: Principal = Depends(require("read")),
) -> Page[ResourceOut]:
    with ctx.db.session() as s:
        stmt = select(Resource)
        if kind:
            stmt = stmt.where(Resource.kind == kind)
        rows, nxt = page_by_id(ctx, s, stmt, Resource.id, "resources", limit, cursor)
        return Page[ResourceOut](items=[ResourceOut.model_validate(r) for r in rows], next_cursor=nxt)


def review_out(s: Any, r: Review) -> ReviewOut:
    actions = s.scalars(select(ImprovementAction).where(ImprovementAction.review_id == r.id))
    out = ReviewOut.model_validate(r)
    out.actions = [ActionOut.model_validate(a) for a in actions]
    return out


@router.get("/reviews", response_model=Page[ReviewOut], summary="Incident reviews (总结评估)")
def list_reviews(
    limit: int | None = Query(None, ge=1, le=1000),
    cursor: str | None = Query(None, max_length=500),
    ctx: AppContext = Depends(get_ctx),
    _p: Principal = Depends(require("read")),
) -> Page[ReviewOut]:
    with ctx.db.session() as s:
        rows, nxt = page_by_id(ctx, s, select(Review), Review.id, "reviews", limit, cursor)
        return Page[ReviewOut](items=[review_out(s, r) for r in rows], next_cursor=nxt)


@router.get("/reviews/{review_id}", response_model=ReviewOut, summary="One review")
def get_review(
    review_id: IdPath, ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("read"))
) -> ReviewOut:
    with ctx.db.session() as s:
        return review_out(s, get_or_404(s, Review, review_id, "总结评估 review"))
