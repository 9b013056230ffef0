"""``yuqing org …``: load and inspect the organisation and the duty roster."""

from __future__ import annotations

from datetime import timedelta

import typer
from rich.table import Table

from yuqing.core.cli import app, console, get_context
from yuqing.org import service
from yuqing.org.models import Group

org_app = typer.Typer(help="组织机构 / organisation, groups and duty roster", no_args_is_help=True)
app.add_typer(org_app, name="org")


@org_app.command("load")
def load(
    path: str = typer.Argument(None, help="Organisation YAML; default: the shipped plan template"),
) -> None:
    """Load (or re-apply) the organisation file."""
    ctx = get_context()
    with ctx.db.session() as s:
        counts = service.load_org_file(s, path, now=ctx.clock.now())
    console.print(f"已载入 / loaded: {counts['people']} 人 people, {counts['groups']} 个小组 groups")


@org_app.command("show")
def show() -> None:
    """Groups with their leaders, deputies and members."""
    ctx = get_context()
    table = Table("小组 Group", "职责 Duties", "组长 Leader", "副组长 Deputies", "成员 Members")
    with ctx.db.session() as s:
        for group in s.query(Group).order_by(Group.id):

            def names(roles: tuple[str, ...], key: str = group.key) -> str:
                return "、".join(p.name for p in service.members(s, key, roles))

            table.add_row(
                f"{group.name}\n{group.name_en or ''}",
                group.duties or "",
                names(("leader",)),
                names(("deputy",)),
                names(("member",)),
            )
    console.print(table)


@org_app.command("people")
def people() -> None:
    """Everyone, with roles and reachable channels."""
    from yuqing.org.models import Person

    ctx = get_context()
    table = Table("Key", "姓名 Name", "职务 Title", "角色 Roles", "渠道 Channels")
    with ctx.db.session() as s:
        for p in s.query(Person).order_by(Person.id):
            roles = ", ".join(f"{service.describe_group(g)}/{r}" for g, r in service.roles_of(s, p.key))
            chans = ", ".join(c for c, _ in service.contact_points(p))
            table.add_row(p.key, p.name, p.title or "", roles, chans)
    console.print(table)


@org_app.command("roster")
def roster(
    group: str = typer.Option("monitoring", help="Group key"),
    hours: int = typer.Option(72, help="How far ahead to show"),
    step: int = typer.Option(12, help="Step in hours"),
) -> None:
    """Who is on duty, now and ahead."""
    ctx = get_context()
    now = ctx.clock.now()
    table = Table("时间 Time (UTC)", "值班 On duty")
    with ctx.db.session() as s:
        for h in range(0, hours + 1, step):
            at = now + timedelta(hours=h)
            table.add_row(
                at.strftime("%Y-%m-%d %H:%M"), "、".join(p.name for p in service.on_duty(s, group, at))
            )
    console.print(table)
