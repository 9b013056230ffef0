"""The organisation service: load the plan's organisation, answer who is who and who is on duty.

``load_org`` is idempotent: loading the same file again updates people and memberships in place,
so the YAML can be the source of truth and be re-applied after every edit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from yuqing.core.clock import ensure_utc
from yuqing.errors import NotFound, ValidationError
from yuqing.org.models import CHANNEL_FIELDS, GROUP_KEYS, ROLES, DutyShift, Group, Membership, Person, StandIn

PERSON_FIELDS = (
    "name",
    "name_en",
    "title",
    "department",
    "email",
    "phone",
    "wecom_id",
    "dingtalk_id",
    "feishu_id",
    "slack_id",
    "note",
)


def template_path() -> Path:
    return Path(str(files("yuqing.org") / "templates" / "org.yaml"))


def read_org_file(path: str | Path | None) -> dict[str, Any]:
    target = Path(path) if path is not None else template_path()
    try:
        data = yaml.safe_load(target.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise NotFound(f"组织文件不存在 / organisation file not found: {target}") from exc
    except yaml.YAMLError as exc:
        raise ValidationError(f"组织文件格式错误 / malformed organisation YAML {target}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError(f"组织文件须为映射 / organisation YAML must be a mapping: {target}")
    return data


def validate_org(data: dict[str, Any]) -> None:
    """Refuse a bad organisation file with a message that names the entry."""
    people = data.get("people") or []
    keys: set[str] = set()
    for i, p in enumerate(people):
        if not isinstance(p, dict) or not p.get("key") or not p.get("name"):
            raise ValidationError(f"people[{i}] 需要 key 与 name / needs key and name")
        if p["key"] in keys:
            raise ValidationError(f"people[{i}] 重复的 key / duplicate key: {p['key']}")
        keys.add(p["key"])
        for ch in p.get("channels") or []:
            if ch not in CHANNEL_FIELDS:
                raise ValidationError(f"people[{i}] ({p['key']}) 未知渠道 / unknown channel: {ch}")
            if not p.get(CHANNEL_FIELDS[ch]):
                raise ValidationError(
                    f"people[{i}] ({p['key']}) 渠道 {ch} 缺少 {CHANNEL_FIELDS[ch]} / channel {ch} needs "
                    f"{CHANNEL_FIELDS[ch]}"
                )

    def known(ref: Any, where: str) -> None:
        if ref not in keys:
            raise ValidationError(f"{where}: 未知人员 / unknown person '{ref}'")

    for i, g in enumerate(data.get("groups") or []):
        if not isinstance(g, dict) or not g.get("key") or not g.get("name"):
            raise ValidationError(f"groups[{i}] 需要 key 与 name / needs key and name")
        if g.get("leader"):
            known(g["leader"], f"groups[{i}].leader")
        for field in ("deputies", "members"):
            for ref in g.get(field) or []:
                known(ref, f"groups[{i}].{field}")
        roster = g.get("roster")
        if roster:
            for ref in roster.get("rotation") or []:
                known(ref, f"groups[{i}].roster.rotation")
            if not roster.get("rotation") or not roster.get("start"):
                raise ValidationError(f"groups[{i}].roster 需要 rotation 与 start / needs rotation and start")
            _parse_time(roster["start"], f"groups[{i}].roster.start")
        for j, shift in enumerate(g.get("shifts") or []):
            known(shift.get("person"), f"groups[{i}].shifts[{j}].person")
            _parse_time(shift.get("starts_at"), f"groups[{i}].shifts[{j}].starts_at")
            _parse_time(shift.get("ends_at"), f"groups[{i}].shifts[{j}].ends_at")
    for i, s in enumerate(data.get("stand_ins") or []):
        known(s.get("person"), f"stand_ins[{i}].person")
        known(s.get("stand_in"), f"stand_ins[{i}].stand_in")


def _parse_time(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValidationError(f"{where}: 时间须带时区 / time needs an offset: {value}")
        return ensure_utc(value)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationError(f"{where}: 无效时间 / invalid time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise ValidationError(f"{where}: 时间须带时区 / time needs an offset: {value}")
    return ensure_utc(parsed)


def load_org(session: Session, data: dict[str, Any], *, now: datetime) -> dict[str, int]:
    """Apply an organisation document (people, groups, roles, roster, stand-ins) to the store."""
    validate_org(data)
    people: dict[str, Person] = {p.key: p for p in session.scalars(select(Person))}
    for p in data.get("people") or []:
        person = people.get(p["key"])
        if person is None:
            person = Person(key=p["key"])
            session.add(person)
            people[p["key"]] = person
        for field in PERSON_FIELDS:
            setattr(person, field, p.get(field))
        person.channels = list(p.get("channels") or [c for c in ("email",) if p.get("email")])
        person.active = bool(p.get("active", True))
        person.unavailable_until = (
            _parse_time(p["unavailable_until"], "unavailable_until") if p.get("unavailable_until") else None
        )
    session.flush()

    groups: dict[str, Group] = {g.key: g for g in session.scalars(select(Group))}
    for g in data.get("groups") or []:
        group = groups.get(g["key"])
        if group is None:
            group = Group(key=g["key"])
            session.add(group)
            groups[g["key"]] = group
        group.name, group.name_en, group.duties = g["name"], g.get("name_en"), g.get("duties")
        group.roster = g.get("roster")
        session.flush()
        session.execute(delete(Membership).where(Membership.group_id == group.id))
        session.execute(delete(DutyShift).where(DutyShift.group_id == group.id))
        roles: dict[str, str] = {}
        for ref in g.get("members") or []:
            roles[ref] = "member"
        for ref in g.get("deputies") or []:
            roles[ref] = "deputy"
        if g.get("leader"):
            roles[g["leader"]] = "leader"
        for ref, role in roles.items():
            session.add(Membership(person_id=people[ref].id, group_id=group.id, role=role))
        for shift in g.get("shifts") or []:
            session.add(
                DutyShift(
                    group_id=group.id,
                    person_id=people[shift["person"]].id,
                    starts_at=_parse_time(shift["starts_at"], "shift"),
                    ends_at=_parse_time(shift["ends_at"], "shift"),
                )
            )
    session.execute(delete(StandIn))
    for s in data.get("stand_ins") or []:
        session.add(
            StandIn(
                person_id=people[s["person"]].id,
                stand_in_id=people[s["stand_in"]].id,
                starts_at=_parse_time(s["starts_at"], "stand_in") if s.get("starts_at") else None,
                ends_at=_parse_time(s["ends_at"], "stand_in") if s.get("ends_at") else None,
                reason=s.get("reason"),
            )
        )
    session.flush()
    return {"people": len(data.get("people") or []), "groups": len(data.get("groups") or [])}


def load_org_file(session: Session, path: str | Path | None, *, now: datetime) -> dict[str, int]:
    """Load an organisation YAML file; ``None`` loads the shipped template that follows the plan."""
    return load_org(session, read_org_file(path), now=now)


def has_org(session: Session) -> bool:
    return session.scalar(select(Person.id).limit(1)) is not None


def get_person(session: Session, key: str) -> Person:
    person = session.scalar(select(Person).where(Person.key == key))
    if person is None:
        raise NotFound(f"人员不存在 / no such person: {key}")
    return person


def get_group(session: Session, key: str) -> Group:
    group = session.scalar(select(Group).where(Group.key == key))
    if group is None:
        raise NotFound(f"小组不存在 / no such group: {key}")
    return group


def members(session: Session, group_key: str, roles: tuple[str, ...] | None = None) -> list[Person]:
    """Members of a group, leader first, then deputies, then members (stable by name)."""
    for role in roles or ():
        if role not in ROLES:
            raise ValidationError(f"未知角色 / unknown role: {role}")
    rows = session.execute(
        select(Membership.role, Person)
        .join(Person, Membership.person_id == Person.id)
        .join(Group, Membership.group_id == Group.id)
        .where(Group.key == group_key)
    ).all()
    order = {r: i for i, r in enumerate(ROLES)}
    picked = [(role, p) for role, p in rows if roles is None or role in roles]
    picked.sort(key=lambda rp: (order[rp[0]], rp[1].key))
    return [p for _, p in picked]


def roles_of(session: Session, person_key: str) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Group.key, Membership.role)
        .join(Membership, Membership.group_id == Group.id)
        .join(Person, Membership.person_id == Person.id)
        .where(Person.key == person_key)
        .order_by(Group.key)
    ).all()
    return [(g, r) for g, r in rows]


def is_member(
    session: Session, person_key: str, group_key: str, roles: tuple[str, ...] | None = None
) -> bool:
    return any(g == group_key and (roles is None or r in roles) for g, r in roles_of(session, person_key))


def rotation_person(roster: dict[str, Any], at: datetime) -> str | None:
    """Who a standing rotation puts on shift at ``at`` (pure)."""
    rotation = list(roster.get("rotation") or [])
    if not rotation:
        return None
    start = _parse_time(roster["start"], "roster.start")
    hours = float(roster.get("shift_hours") or 24)
    index = int((at - start) // timedelta(hours=hours))
    return rotation[index % len(rotation)]


def on_duty(session: Session, group_key: str, at: datetime) -> list[Person]:
    """Who is on duty in a group: explicit shifts, else the standing rotation, else the leader.

    Each person is replaced by their stand-in when unavailable.
    """
    at = ensure_utc(at)
    group = get_group(session, group_key)
    shift_people = list(
        session.scalars(
            select(Person)
            .join(DutyShift, DutyShift.person_id == Person.id)
            .where(DutyShift.group_id == group.id, DutyShift.starts_at <= at, DutyShift.ends_at > at)
            .order_by(Person.key)
        )
    )
    if not shift_people and group.roster:
        key = rotation_person(group.roster, at)
        if key is not None:
            shift_people = [get_person(session, key)]
    if not shift_people:
        shift_people = members(session, group_key, ("leader",))
    seen: dict[str, Person] = {}
    for p in shift_people:
        actual = available(session, p, at)
        seen.setdefault(actual.key, actual)
    return list(seen.values())


def is_unavailable(person: Person, at: datetime) -> bool:
    return not person.active or (person.unavailable_until is not None and person.unavailable_until > at)


def available(session: Session, person: Person, at: datetime) -> Person:
    """The person, or whoever stands in for them at ``at`` (following a chain, never looping)."""
    at = ensure_utc(at)
    current, visited = person, {person.key}
    while True:
        dated = session.scalars(
            select(StandIn).where(
                StandIn.person_id == current.id, StandIn.starts_at.is_not(None), StandIn.starts_at <= at
            )
        ).all()
        covering = [s for s in dated if s.ends_at is None or s.ends_at > at]
        standing = session.scalars(
            select(StandIn).where(StandIn.person_id == current.id, StandIn.starts_at.is_(None))
        ).all()
        chosen = (
            covering[0] if covering else (standing[0] if standing and is_unavailable(current, at) else None)
        )
        if chosen is None:
            return current
        nxt = session.get(Person, chosen.stand_in_id)
        if nxt is None or nxt.key in visited:
            return current
        visited.add(nxt.key)
        current = nxt


def stood_in_for(session: Session, person: Person, at: datetime) -> list[Person]:
    """The people whose stand-in ``person`` is at ``at`` (following chains), e.g. to carry an
    absent approver's authority."""
    absent = session.scalars(
        select(Person).where(Person.id.in_(select(StandIn.person_id))).order_by(Person.key)
    ).all()
    return [p for p in absent if p.key != person.key and available(session, p, at).key == person.key]


def contact_points(person: Person) -> list[tuple[str, str]]:
    """(channel, address) in the person's preference order; channels without an address are skipped."""
    points = []
    for channel in person.channels or []:
        field = CHANNEL_FIELDS.get(channel)
        address = getattr(person, field) if field else None
        if address:
            points.append((channel, str(address)))
    return points


def describe_group(key: str) -> str:
    names = {
        "management": "应急管理小组",
        "monitoring": "舆情监测小组",
        "response": "应急响应小组",
        "logistics": "后勤保障小组",
    }
    return names.get(key, key)


__all__ = [
    "GROUP_KEYS",
    "available",
    "contact_points",
    "describe_group",
    "get_group",
    "get_person",
    "has_org",
    "is_member",
    "load_org",
    "load_org_file",
    "members",
    "on_duty",
    "roles_of",
    "rotation_person",
]
