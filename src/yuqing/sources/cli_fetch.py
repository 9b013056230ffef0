"""Fetch commands: ``yuqing sources test NAME``, ``yuqing sources health``, ``yuqing run``."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from yuqing.core.cli import app, console, get_context, print_json
from yuqing.sources.cli import sources_app

STATUS_STYLE = {"ok": "green", "degraded": "yellow", "silent": "magenta", "failing": "bold red"}
STATUS_ZH = {"ok": "正常", "degraded": "降级", "silent": "静默", "failing": "失败"}


@sources_app.command("test")
def sources_test(
    name: str = typer.Argument(..., help="Source name or id"),
    store: bool = typer.Option(
        False, "--store", help="Also ingest what was fetched (default: store nothing)"
    ),
    limit: int = typer.Option(20, "--limit", min=1, help="Items to show"),
) -> None:
    """试抓信源 / fetch and parse a source once and show the items found."""
    from yuqing.errors import ParseError
    from yuqing.sources.service import get_connector, get_source

    ctx = get_context()
    source = get_source(ctx, name)
    connector = get_connector(source.kind)
    payloads = connector.fetch(source, ctx)
    table = Table(title=f"试抓 / test fetch: {escape(source.name)} ({source.kind})")
    for col in ("#", "发布时间 / published", "标题 / title", "作者 / author", "链接 / url"):
        table.add_column(col, overflow="fold")
    shown = found = 0
    problems: list[str] = []
    for payload in payloads:
        if payload.not_modified:
            console.print("未修改 (304) / not modified since the last poll")
            continue
        try:
            result = connector.parse(source, payload)
        except ParseError as exc:
            problems.append(f"[{exc.code}] {exc.message} ({payload.url})")
            continue
        problems.extend(f"[{e.reason}] {e}" for e in result.errors)
        for item in result.items:
            found += 1
            if shown < limit:
                shown += 1
                table.add_row(
                    str(found),
                    escape(str(item.published or "")),
                    escape((item.title or item.text)[:80]),
                    escape(item.author or ""),
                    escape(item.url or ""),
                )
    console.print(table)
    total = sum(len(p.body) for p in payloads)
    console.print(f"抓取 {len(payloads)} 个页面 / payloads, {total} 字节 / bytes; 条目 / items: {found}")
    for problem in problems:
        console.print(f"[yellow]问题 / problem[/] {escape(problem)}")
    if store:
        from yuqing.core.pipeline import register_stages
        from yuqing.sources.service import ingest_payloads

        register_stages(ctx)
        report = ingest_payloads(ctx, source, [p for p in payloads if not p.not_modified], connector)
        console.print(f"已入库 / stored: {report.counts()}")
    else:
        console.print("未入库（加 --store 入库）/ nothing stored (use --store)")


@sources_app.command("health")
def sources_health(
    as_json: bool = typer.Option(False, "--json"),
    report: bool = typer.Option(False, "--report", help="Also publish newly unhealthy sources on the bus"),
) -> None:
    """信源健康 / last success, failures, items per hour against each source's baseline."""
    from yuqing.sources.health import report_unhealthy, source_health

    ctx = get_context()
    if report:
        report_unhealthy(ctx)
    rows = source_health(ctx)
    if as_json:
        print_json([h.to_dict() for h in rows])
        return
    table = Table(title="信源健康 / source health")
    for col in (
        "信源 / source",
        "类型",
        "状态 / status",
        "最近成功 / last success",
        "连续失败",
        "24h 条数",
        "条/时 (基线) / per h (baseline)",
        "原因 / reasons",
    ):
        table.add_column(col, overflow="fold")
    for h in rows:
        style = STATUS_STYLE.get(h.status, "")
        baseline = f"{h.baseline_per_hour:.2f}" if h.baseline_per_hour is not None else "-"
        table.add_row(
            escape(h.name),
            h.kind,
            f"[{style}]{STATUS_ZH.get(h.status, h.status)} {h.status}[/]",
            h.last_success_at.strftime("%Y-%m-%d %H:%M") if h.last_success_at else "-",
            str(h.consecutive_failures),
            str(h.items_24h),
            f"{h.rate_per_hour:.2f} ({baseline})",
            escape("; ".join(h.reasons)),
        )
    console.print(table)


@app.command("run")
def run_service(
    role: str | None = typer.Option(
        None,
        "--role",
        help="scheduler|api|worker|dispatcher|all (default: all but the API)",
    ),
    max_sleep: float | None = typer.Option(None, "--max-sleep", help="Longest idle sleep in seconds"),
) -> None:
    """运行服务 / the long-running service: polls every source on its schedule through the pipeline.

    Without ``--role`` one process polls the sources, runs the pipeline stages, delivers and
    escalates alerts and runs the periodic jobs (deadlines, readiness, health, briefs). With
    ``--role`` it runs one part, to scale each on its own (docs/operations.md). SIGTERM / SIGINT
    finish the work in hand and exit cleanly (code 0)."""
    from yuqing.core.logging import configure_logging
    from yuqing.core.pipeline import register_stages
    from yuqing.scale.roles import run_dispatcher, run_periodic, run_role
    from yuqing.sources.scheduler import Scheduler

    ctx = get_context()
    configure_logging(ctx.settings)
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        logging.getLogger(__name__).info("signal %s received: finishing the work in hand", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if role is not None:
        console.print(f"yuqing 服务已启动 / service started: role={role}")
        try:
            run_role(role, ctx, stop)
        finally:
            ctx.db.dispose()
        console.print(f"yuqing 服务已停止 / service stopped: role={role}")
        return

    stages = register_stages(ctx)
    console.print(
        f"yuqing 服务已启动 / service started: stages={','.join(stages) or '-'}; "
        "SIGTERM 或 Ctrl-C 停止 / SIGTERM or Ctrl-C to stop"
    )
    helpers = [
        threading.Thread(target=run_dispatcher, args=(ctx, stop), name="dispatcher", daemon=True),
        threading.Thread(target=run_periodic, args=(ctx, stop), name="periodic", daemon=True),
    ]
    for t in helpers:
        t.start()
    scheduler = Scheduler(ctx)
    try:
        scheduler.run_forever(stop, max_sleep=max_sleep)
    finally:
        stop.set()
        for t in helpers:
            t.join(timeout=30)
        fetcher = ctx.extras.get("safe_fetcher")
        if fetcher is not None:
            fetcher.close()
        ctx.db.dispose()
    console.print(f"yuqing 服务已停止 / service stopped after {scheduler.polls} polls")
