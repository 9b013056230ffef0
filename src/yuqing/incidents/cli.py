"""``yuqing incidents …`` and ``yuqing resources …``: the emergency response from the command line.

Every command that changes something takes ``--as PERSON_KEY`` (default ``$YUQING_ACTOR``): the org
person acting, whose permissions the service checks.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from yuqing.core.cli import app, console, get_context, print_json
from yuqing.core.clock import ensure_utc
from yuqing.errors import ValidationError, YuqingError

incidents_app = typer.Typer(
    help="应急处置 / incidents: workflow, tasks, statements, review", no_args_is_help=True
)
task_app = typer.Typer(help="任务 / tasks", no_args_is_help=True)
statement_app = typer.Typer(help="声明 / statements", no_args_is_help=True)
coordinate_app = typer.Typer(
    help="内部协调与统一口径 / coordination and the agreed line", no_args_is_help=True
)
request_app = typer.Typer(help="物资申请 / resource requests", no_args_is_help=True)
resources_app = typer.Typer(help="物资清单 / resource inventory and readiness", no_args_is_help=True)
app.add_typer(incidents_app, name="incidents")
app.add_typer(resources_app, name="resources")
incidents_app.add_typer(task_app, name="task")
incidents_app.add_typer(statement_app, name="statement")
incidents_app.add_typer(coordinate_app, name="coordinate")
incidents_app.add_typer(request_app, name="request")

ACTOR = typer.Option("", "--as", envvar="YUQING_ACTOR", help="操作人 / acting person key (org)")


def _actor(value: str) -> str:
    if not value:
        raise ValidationError(
            "须指明操作人：--as 人员标识 或设置 YUQING_ACTOR / pass --as PERSON_KEY or set YUQING_ACTOR"
        )
    return value


def _local(at: datetime | None, tz: str) -> str:
    return "—" if at is None else at.astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M")


def _parse_time(value: str | None, tz: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(f"无效时间 / invalid time: {value} (YYYY-MM-DD[THH:MM])") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(tz))
    return ensure_utc(parsed)


def _read_body(body: str | None, body_file: Path | None) -> str | None:
    if body_file is not None:
        try:
            return body_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError(f"无法读取文件 / cannot read {body_file}: {exc}") from exc
    return body


# --- incidents ---------------------------------------------------------------------------------------


@incidents_app.command("open")
def open_cmd(
    event: list[int] = typer.Option([], "--event", "-e", help="关联事件 ID / event id (repeatable)"),
    title: str | None = typer.Option(None, help="标题（手工开启必填）/ title"),
    level: str | None = typer.Option(None, help="等级 I-IV（默认取事件最高等级）/ level"),
    summary: str = typer.Option("", help="概述 / summary"),
    category: str | None = typer.Option(None, help="风险来源 / trigger category"),
    risk_type: str | None = typer.Option(None, help="风险类型 / risk type"),
    playbook: str | None = typer.Option(None, help="预案 key（默认自动匹配）/ playbook key"),
    fact: list[str] = typer.Option([], "--fact", help="已核实事实（用于声明）/ verified fact"),
    action: list[str] = typer.Option([], "--action", help="已采取措施（用于声明）/ measure taken"),
    no_playbook: bool = typer.Option(False, "--no-playbook", help="不生成预案任务 / no playbook tasks"),
    as_: str = ACTOR,
) -> None:
    """开启应急事件 / open an incident from events or by hand."""
    from yuqing.incidents import service

    ctx = get_context()
    inc = service.open_incident(
        ctx,
        actor=_actor(as_),
        title=title,
        level=level,
        summary=summary,
        category=category,
        risk_type=risk_type,
        event_ids=event,
        playbook=playbook,
        facts=fact,
        actions=action,
        apply_playbook=not no_playbook,
    )
    console.print(f"已开启应急事件 / incident opened: #{inc.id} [{inc.level}] {inc.title}", highlight=False)


@incidents_app.command("link")
def link_cmd(incident_id: int, event_id: int, as_: str = ACTOR) -> None:
    """关联事件 / link another event to the incident."""
    from yuqing.incidents import service

    linked = service.link_event(get_context(), incident_id, actor=_actor(as_), event_id=event_id)
    console.print("已关联 / linked" if linked else "已关联过 / already linked", highlight=False)


@incidents_app.command("list")
def list_cmd(open_only: bool = typer.Option(False, "--open", help="仅进行中 / open only")) -> None:
    """应急事件列表 / list incidents."""
    from yuqing.incidents import service, workflow

    ctx = get_context()
    table = Table(title="应急事件 / incidents")
    for col in ("#", "等级 / level", "状态 / status", "标题 / title", "开启 / opened"):
        table.add_column(col)
    for inc in service.list_incidents(ctx, open_only=open_only):
        table.add_row(
            str(inc.id),
            inc.level,
            workflow.state_label(inc.status),
            inc.title,
            _local(inc.opened_at, ctx.settings.timezone),
        )
    console.print(table)


@incidents_app.command("show")
def show_cmd(incident_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """事件详情：时限、任务、声明、口径 / show an incident."""
    from yuqing.incidents import service, workflow

    ctx = get_context()
    view = service.incident_view(ctx, incident_id)
    if as_json:
        print_json(view)
        return
    tz = ctx.settings.timezone
    console.print(
        f"[bold]#{view['id']} [{view['level']}] {view['title']}[/] — {workflow.state_label(view['status'])}; "
        f"可转为 / next: {', '.join(view['allowed_transitions']) or '—'}",
        highlight=False,
    )
    dl = Table(title="时限 / deadlines")
    for col in ("时限 / deadline", "到期 / due", "完成 / met", ""):
        dl.add_column(col)
    for d in view["deadlines"]:
        dl.add_row(
            d["label"],
            _local(d["due_at"], tz),
            _local(d["met_at"], tz),
            "[red]逾期 / OVERDUE[/]" if d["overdue"] else "",
        )
    console.print(dl)
    tasks = Table(title="任务 / tasks")
    for col in ("#", "任务 / task", "负责人 / assignee", "到期 / due", "状态 / status"):
        tasks.add_column(col)
    for t in view["tasks"]:
        status = t["status"] + (" [red]逾期[/]" if t["overdue"] else "")
        tasks.add_row(str(t["id"]), t["title"], t["assignee"] or "—", _local(t["due_at"], tz), status)
    console.print(tasks)
    for s in view["statements"]:
        console.print(
            f"声明 / statement #{s['id']} {s['kind']} v{s['version']} {s['status']}: {s['title']}",
            highlight=False,
        )
    if view["agreed_line"]:
        line = view["agreed_line"]
        console.print(
            f"统一口径 / agreed line v{line['version']}: {line['text']}\n"
            f"  待确认 / pending: {', '.join(line['pending']) or '—'}",
            highlight=False,
        )
    console.print(f"时间线 / timeline: {view['timeline_count']} 条, head {view['timeline_head'][:16]}…")


@incidents_app.command("transition")
def transition_cmd(
    incident_id: int, state: str, reason: str = typer.Option("", help="原因 / why"), as_: str = ACTOR
) -> None:
    """状态流转 / move the incident (assessing, responding, recovering, closed, cancelled)."""
    from yuqing.incidents import service, workflow

    inc = service.transition(get_context(), incident_id, state, actor=_actor(as_), reason=reason)
    console.print(f"#{inc.id} → {workflow.state_label(inc.status)}", highlight=False)


@incidents_app.command("close")
def close_cmd(incident_id: int, reason: str = typer.Option("", help="原因 / why"), as_: str = ACTOR) -> None:
    """关闭事件（I/II 级须应急管理小组）/ close an incident (level I/II: management group only)."""
    from yuqing.incidents import service

    inc = service.transition(get_context(), incident_id, "closed", actor=_actor(as_), reason=reason)
    console.print(f"#{inc.id} 已关闭 / closed", highlight=False)


@incidents_app.command("level")
def level_cmd(
    incident_id: int, level: str, reason: str = typer.Option("", help="原因 / why"), as_: str = ACTOR
) -> None:
    """调整等级（时限随之重算）/ change the level (deadlines are recomputed)."""
    from yuqing.incidents import service

    inc = service.set_level(get_context(), incident_id, level, actor=_actor(as_), reason=reason)
    console.print(f"#{inc.id} 等级 / level {inc.level}", highlight=False)


@incidents_app.command("assign")
def assign_cmd(task_id: int, person: str, as_: str = ACTOR) -> None:
    """分派任务 / assign a task to a person."""
    from yuqing.incidents import service

    task = service.assign_task(get_context(), task_id, person, actor=_actor(as_))
    console.print(f"任务 / task #{task.id} → {task.assignee}", highlight=False)


@incidents_app.command("decide")
def decide_cmd(
    incident_id: int,
    participant: list[str] = typer.Option([], "--participant", "-p", help="参会人 / participant key"),
    assessment: str = typer.Option("", help="研判 / assessment"),
    strategy: str = typer.Option("", help="策略 / strategy"),
    instruction: list[str] = typer.Option([], "--instruction", "-i", help="指令 / instruction"),
    level: str | None = typer.Option(None, help="定级 / level decided"),
    as_: str = ACTOR,
) -> None:
    """记录管理小组决策 / record a management decision (assessment meeting)."""
    from yuqing.incidents import service

    d = service.decide(
        get_context(),
        incident_id,
        actor=_actor(as_),
        participants=participant,
        assessment=assessment,
        strategy=strategy,
        instructions=instruction,
        level=level,
    )
    console.print(f"已记录决策 / decision #{d.id} recorded", highlight=False)


@task_app.command("add")
def task_add(
    incident_id: int,
    title: str,
    assignee: str | None = typer.Option(None, help="负责人 / person key"),
    owner_role: str | None = typer.Option(None, help="负责角色 / playbook owner role"),
    due_hours: float | None = typer.Option(None, help="几小时内完成 / due in hours"),
    description: str = typer.Option(""),
    as_: str = ACTOR,
) -> None:
    """新建任务 / add a task."""
    from yuqing.incidents import service

    task = service.add_task(
        get_context(),
        incident_id,
        actor=_actor(as_),
        title=title,
        assignee=assignee,
        owner_role=owner_role,
        due_in_hours=due_hours,
        description=description,
    )
    console.print(f"任务 / task #{task.id} → {task.assignee or '—'}", highlight=False)


@task_app.command("update")
def task_update(
    task_id: int,
    status: str | None = typer.Option(None, help="open | in_progress | done | cancelled"),
    comment: str | None = typer.Option(None, help="备注 / comment"),
    as_: str = ACTOR,
) -> None:
    """更新任务状态或备注 / move or comment a task."""
    from yuqing.incidents import service

    task = service.update_task(get_context(), task_id, actor=_actor(as_), status=status, comment=comment)
    console.print(f"任务 / task #{task.id}: {task.status}", highlight=False)


@statement_app.command("draft")
def statement_draft(
    incident_id: int,
    kind: str = typer.Option("holding", help="holding | full | clarification | regulator_report"),
    lang: str = typer.Option("zh", help="zh | en"),
    body: str | None = typer.Option(None, help="正文（默认按模板生成）/ body (default: from the template)"),
    body_file: Path | None = typer.Option(None, help="正文文件 / body from a file"),
    as_: str = ACTOR,
) -> None:
    """起草声明 / draft a statement from its template."""
    from yuqing.incidents import service

    ctx = get_context()
    st = service.draft_statement(
        ctx, incident_id, actor=_actor(as_), kind=kind, lang=lang, body=_read_body(body, body_file)
    )
    console.print(f"声明 / statement #{st.id} v1 ({st.kind})\n", highlight=False)
    console.print(service.statement_body(ctx, st.id), highlight=False, markup=False)


@statement_app.command("revise")
def statement_revise(
    statement_id: int,
    body: str | None = typer.Option(None),
    body_file: Path | None = typer.Option(None),
    note: str = typer.Option("", help="修改说明 / change note"),
    as_: str = ACTOR,
) -> None:
    """修改声明（新版本，重新审批）/ revise a statement (new version; approvals restart)."""
    from yuqing.incidents import service

    text = _read_body(body, body_file)
    if not text:
        raise ValidationError("须提供 --body 或 --body-file / pass --body or --body-file")
    ver = service.revise_statement(get_context(), statement_id, actor=_actor(as_), body=text, note=note)
    console.print(f"声明 / statement #{statement_id} v{ver.number}", highlight=False)


@statement_app.command("show")
def statement_show(
    statement_id: int,
    version: int | None = typer.Option(None),
    html: bool = typer.Option(False, "--html", help="HTML 输出（已转义）/ escaped HTML"),
) -> None:
    """查看声明正文 / print a statement."""
    from yuqing.incidents import service, statements

    text = service.statement_body(get_context(), statement_id, version)
    typer.echo(str(statements.to_html(text)) if html else text)


@incidents_app.command("approve")
def approve_cmd(
    statement_id: int,
    reject: bool = typer.Option(False, "--reject", help="驳回 / reject"),
    comment: str = typer.Option("", help="意见 / comment"),
    as_: str = ACTOR,
) -> None:
    """审批声明（按审批链）/ approve (or reject) the next step of a statement's approval chain."""
    from yuqing.incidents import service

    st = service.approve_statement(
        get_context(), statement_id, actor=_actor(as_), reject=reject, comment=comment
    )
    console.print(f"声明 / statement #{st.id}: {st.status}", highlight=False)


@incidents_app.command("publish")
def publish_cmd(
    statement_id: int,
    channel: str = typer.Option(..., help="发布渠道 / channel, e.g. 官方微博"),
    link: str | None = typer.Option(None, help="链接 / link"),
    as_: str = ACTOR,
) -> None:
    """标记声明已发布（此后不可修改）/ mark an approved statement published (immutable from then on)."""
    from yuqing.incidents import service

    st = service.publish_statement(get_context(), statement_id, actor=_actor(as_), channel=channel, link=link)
    console.print(f"声明 / statement #{st.id} 已发布 / published on {st.channel}", highlight=False)


@coordinate_app.command("log")
def coordinate_log(
    incident_id: int,
    message: str,
    channel: str = typer.Option("meeting", help="meeting | phone | wecom | email | ..."),
    audience: str = typer.Option("", help="对象 / audience"),
    as_: str = ACTOR,
) -> None:
    """记录内部沟通 / log an internal communication."""
    from yuqing.incidents import service

    row = service.log_coordination(
        get_context(), incident_id, actor=_actor(as_), message=message, channel=channel, audience=audience
    )
    console.print(f"已记录 / logged #{row.id}", highlight=False)


@coordinate_app.command("line")
def coordinate_line(incident_id: int, text: str, as_: str = ACTOR) -> None:
    """确定统一口径（各部门负责人须确认）/ set the agreed line (each department head acknowledges)."""
    from yuqing.incidents import service

    line = service.set_agreed_line(get_context(), incident_id, actor=_actor(as_), text=text)
    console.print(
        f"统一口径 / agreed line v{line.version}; 待确认 / to acknowledge: {', '.join(line.required)}",
        highlight=False,
    )


@coordinate_app.command("ack")
def coordinate_ack(incident_id: int, as_: str = ACTOR) -> None:
    """确认统一口径 / acknowledge the current agreed line."""
    from yuqing.incidents import service

    status = service.acknowledge_line(get_context(), incident_id, actor=_actor(as_))
    console.print(
        f"口径 v{status.version}: 待确认 / pending {', '.join(status.pending) or '—'}", highlight=False
    )


@request_app.command("add")
def request_add(
    incident_id: int,
    item: str,
    quantity: int = typer.Option(1),
    reason: str = typer.Option(""),
    as_: str = ACTOR,
) -> None:
    """申请物资 / request a resource for the incident."""
    from yuqing.incidents import service

    req = service.request_resource(
        get_context(), incident_id, actor=_actor(as_), item=item, quantity=quantity, reason=reason
    )
    console.print(f"物资申请 / request #{req.id}", highlight=False)


@request_app.command("fulfil")
def request_fulfil(
    request_id: int,
    resource: int | None = typer.Option(None, help="资源 ID / resource id"),
    note: str = typer.Option(""),
    reject: bool = typer.Option(False, "--reject"),
    as_: str = ACTOR,
) -> None:
    """后勤保障组处理物资申请 / the logistics group fulfils (or rejects) a request."""
    from yuqing.incidents import service

    req = service.fulfil_request(
        get_context(), request_id, actor=_actor(as_), resource_id=resource, note=note, reject=reject
    )
    console.print(f"物资申请 / request #{req.id}: {req.status}", highlight=False)


def _parse_action(value: str) -> tuple[str, str, float | None]:
    parts = [p.strip() for p in value.split("|")]
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise ValidationError(f"改进措施格式：标题|负责人[|天数] / action format TITLE|OWNER[|DAYS]: {value}")
    try:
        days = float(parts[2]) if len(parts) == 3 and parts[2] else None
    except ValueError as exc:
        raise ValidationError(f"天数无效 / invalid days: {parts[2]}") from exc
    return parts[0], parts[1], days


@incidents_app.command("review")
def review_cmd(
    incident_id: int,
    went_well: str | None = typer.Option(None, "--well", help="做得好的 / what went well"),
    went_badly: str | None = typer.Option(None, "--badly", help="不足 / what went badly"),
    action: list[str] = typer.Option([], "--action", help="改进措施 标题|负责人|天数 / TITLE|OWNER|DAYS"),
    complete_action: int | None = typer.Option(
        None, "--complete-action", help="完成改进措施 / mark action done"
    ),
    final: bool = typer.Option(False, "--final", help="定稿并转为已总结 / finalise (→ reviewed)"),
    fmt: str = typer.Option("md", "--format", help="md | html"),
    output: Path | None = typer.Option(None, "--output", "-o", help="写入文件 / write to a file"),
    as_: str = ACTOR,
) -> None:
    """总结评估：指标、改进措施、报告 / write, finalise and render the review."""
    from yuqing.incidents import service

    ctx = get_context()
    if complete_action is not None:
        act = service.complete_action(ctx, complete_action, actor=_actor(as_))
        console.print(f"改进措施 / action #{act.id}: {act.status}", highlight=False)
        return
    if went_well is not None or went_badly is not None or action or final:
        service.write_review(
            ctx,
            incident_id,
            actor=_actor(as_),
            went_well=went_well,
            went_badly=went_badly,
            actions=[_parse_action(a) for a in action],
            final=final,
        )
    text = service.render_review(ctx, incident_id, fmt)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        console.print(f"已写入 / written: {output}", highlight=False)
    else:
        typer.echo(text)


@incidents_app.command("verify")
def verify_cmd(incident_id: int) -> None:
    """校验时间线哈希链 / verify the incident timeline's hash chain."""
    from yuqing.incidents import service

    result = service.verify_timeline(get_context(), incident_id)
    if not result.ok:
        raise YuqingError(result.message(), code="timeline_tampered", first_bad_seq=result.first_bad_seq)
    console.print(result.message(), highlight=False)


@incidents_app.command("timeline")
def timeline_cmd(incident_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """时间线 / print the timeline."""
    from yuqing.incidents import service

    ctx = get_context()
    rows = service.get_timeline(ctx, incident_id)
    if as_json:
        print_json(
            [
                {"seq": e.seq, "at": e.at, "kind": e.kind, "actor": e.actor, "data": e.data, "hash": e.hash}
                for e in rows
            ]
        )
        return
    for e in rows:
        console.print(
            f"{e.seq:>3} {_local(e.at, ctx.settings.timezone)} {e.kind:<20} {e.actor or '系统'}",
            highlight=False,
        )


@incidents_app.command("check")
def check_cmd() -> None:
    """检查逾期时限与任务并告警（供定时任务调用）/ alert overdue deadlines and tasks (run on a schedule)."""
    from yuqing.incidents import service

    raised = service.check_deadlines(get_context())
    console.print(f"逾期提醒 / overdue alerts: {len(raised)}", highlight=False)
    for r in raised:
        console.print(
            f"  #{r.incident_id} {r.overdue.subject} {r.overdue.kind} step {r.overdue.step} "
            f"→ {', '.join(r.recipients)}",
            highlight=False,
        )


@incidents_app.command("watch")
def watch_cmd(
    interval: float = typer.Option(60.0, help="秒 / seconds between ticks"),
    once: bool = typer.Option(False, "--once", help="只运行一次 / a single tick"),
) -> None:
    """定时检查：逾期告警与物资就绪 / the schedule: overdue alerts every tick, readiness checks when due."""
    import signal
    import threading

    from yuqing.incidents import service

    ctx = get_context()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while True:
        result = service.periodic(ctx)
        console.print(
            f"逾期告警 / overdue alerts {result['overdue_alerts']}; 物资检查 / resources checked "
            f"{result['resources_checked']} (告警 / alerts {result['readiness_alerts']})",
            highlight=False,
        )
        if once or stop.wait(interval):
            break


# --- resources --------------------------------------------------------------------------------------


@resources_app.command("list")
def resources_list(kind: str | None = typer.Option(None)) -> None:
    """物资清单 / list the resource inventory."""
    from yuqing.incidents import service

    ctx = get_context()
    table = Table(title="物资清单 / resources")
    for col in ("#", "类型 / kind", "名称 / name", "负责人 / owner", "到期 / expires", "检查 / last check"):
        table.add_column(col)
    for r in service.list_resources(ctx, kind):
        problems = ", ".join(p.get("code", "") for p in r.last_problems or []) or (
            "OK" if r.last_checked_at else "—"
        )
        table.add_row(
            str(r.id), r.kind, r.name, r.owner or "—", _local(r.expires_at, ctx.settings.timezone), problems
        )
    console.print(table)


@resources_app.command("add")
def resources_add(
    kind: str,
    name: str,
    owner: str | None = typer.Option(None, help="负责人 / owner person key"),
    expires: str | None = typer.Option(None, help="到期日 / expiry (YYYY-MM-DD)"),
    contact: list[str] = typer.Option([], "--contact", help="渠道:地址 / channel:address, e.g. phone:+86…"),
    person: str | None = typer.Option(None, help="对应的组织人员 / org person (spokesperson)"),
    tested: str | None = typer.Option(None, help="最近测试 / last tested (YYYY-MM-DD)"),
    description: str = typer.Option(""),
    as_: str = ACTOR,
) -> None:
    """登记资源 / add a resource to the inventory."""
    from yuqing.incidents import service

    ctx = get_context()
    tz = ctx.settings.timezone
    contacts = []
    for c in contact:
        channel, sep, address = c.partition(":")
        if not sep:
            raise ValidationError(f"联系方式格式 渠道:地址 / contact must be channel:address: {c}")
        contacts.append((channel.strip(), address.strip()))
    details: dict[str, Any] = {"person": person} if person else {}
    res = service.add_resource(
        ctx,
        actor=_actor(as_),
        kind=kind,
        name=name,
        description=description,
        owner=owner,
        expires_at=_parse_time(expires, tz),
        contacts=contacts,
        last_tested_at=_parse_time(tested, tz),
        details=details,
    )
    console.print(f"已登记 / added resource #{res.id}", highlight=False)


@resources_app.command("check")
def resources_check() -> None:
    """就绪检查（到期、无可用联系方式…）并告警 / readiness checks; problems raise alerts."""
    from yuqing.incidents import service

    report = service.run_readiness_checks(get_context())
    console.print(
        f"已检查 / checked {report.checked}; 问题 / problems {len(report.problems)}; "
        f"新告警 / new alerts {report.alerts_raised}",
        highlight=False,
    )
    for _rid, name, p in report.problems:
        colour = "red" if p.severity == "error" else "yellow"
        console.print(f"  [{colour}]{p.code}[/] {name}: {p.message}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)
