"""The emergency organisation (people and groups of the plan), read-only; contact details need admin."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import select

from yuqing.core.context import AppContext
from yuqing.org.models import Group, Membership, Person
from yuqing.web.auth import Principal
from yuqing.web.deps import get_ctx, require

router = APIRouter(prefix="/org", tags=["org"])


class MemberOut(BaseModel):
    key: str
    name: str
    title: str | None
    department: str | None
    role: str
    active: bool


class GroupOut(BaseModel):
    key: str
    name: str
    name_en: str | None
    duties: str | None
    members: list[MemberOut]


@router.get("/groups", response_model=list[GroupOut], summary="Groups of the plan and their members")
def list_groups(
    ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("read"))
) -> list[GroupOut]:
    with ctx.db.session() as s:
        groups = list(s.scalars(select(Group).order_by(Group.id)))
        rows = s.execute(
            select(Membership.group_id, Membership.role, Person).join(
                Person, Person.id == Membership.person_id
            )
        ).all()
        by_group: dict[int, list[MemberOut]] = {}
        for gid, role, person in rows:
            by_group.setdefault(gid, []).append(
                MemberOut(
                    key=person.key,
                    name=person.name,
                    title=person.title,
                    department=person.department,
                    role=role,
                    active=person.active,
                )
            )
        return [
            GroupOut(
                key=g.key, name=g.name, name_en=g.name_en, duties=g.duties, members=by_group.get(g.id, [])
            )
            for g in groups
        ]
