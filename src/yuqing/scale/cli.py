"""``yuqing worker`` and ``yuqing bus status | dead-letters | replay | purge | trim``."""

from __future__ import annotations

import signal
import threading
from typing import Any

import typer
from rich.table import Table

from yuqing.core.cli import app, console, print_json
from yuqing.errors import ConfigError

bus_app = typer.Typer(help="消息总线 / the Redis Streams bus: queues, dead letters", no_args_is_help=True)
app.add_typer(bus_app, name="bus")


def _split(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def install_stop_signals(stop: threading.Event) -> None:
    """SIGTERM / SIGINT finish the current batch and stop."""

    def _handler(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)


@app.command("worker")
def worker(
    stages: str = typer.Option(
        None, "--stages", help="Comma-separated stages (default: all), e.g. analysis,events"
    ),
    concurrency: int = typer.Option(1, "--concurrency", min=1, max=64, help="Consumer threads"),
    metrics_port: int = typer.Option(0, "--metrics-port", help="Serve Prometheus /metrics on this port"),
    metrics_addr: str = typer.Option("127.0.0.1", "--metrics-addr", help="Address for --metrics-port"),
    consumer: str = typer.Option(None, "--consumer", help="Consumer name (default host-pid)"),
) -> None:
    """处理节点 / consume pipeline stages from the Redis bus until SIGTERM."""
    from yuqing.core import metrics
    from yuqing.core.cli import get_context
    from yuqing.core.logging import configure_logging
    from yuqing.scale.worker import run_worker

    ctx = get_context(migrate=False)
    configure_logging(ctx.settings)
    stop = threading.Event()
    install_stop_signals(stop)
    server = metrics.serve(metrics_port, metrics_addr) if metrics_port else None
    try:
        run_worker(ctx, stop, stages=_split(stages), concurrency=concurrency, consumer=consumer)
    finally:
        if server is not None:
            server.shutdown()
        ctx.db.dispose()


def _bus() -> Any:
    from yuqing.config import load_settings
    from yuqing.core.context import make_bus
    from yuqing.core.redis_bus import RedisStreamsBus

    bus = make_bus(load_settings())
    if not isinstance(bus, RedisStreamsBus):
        raise ConfigError(
            "当前为进程内总线，没有队列 / the in-process bus has no queues: set YUQING_BUS_URL=redis://…"
        )
    return bus


@bus_app.command("status")
def bus_status(as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """队列状态 / streams: length, dead letters; groups: pending, lag, consumers."""
    rows = _bus().status()
    if as_json:
        print_json(rows)
        return
    table = Table(title="总线队列 / bus queues")
    for col in (
        "主题 topic",
        "长度 length",
        "死信 dead",
        "消费组 group",
        "未确认 pending",
        "积压 lag",
        "消费者 consumers",
    ):
        table.add_column(col, overflow="fold")
    for row in rows:
        groups = row["groups"] or [{"group": "-", "pending": "-", "lag": "-", "consumers": "-"}]
        for i, g in enumerate(groups):
            table.add_row(
                row["topic"] if i == 0 else "",
                str(row["length"]) if i == 0 else "",
                str(row["dead"]) if i == 0 else "",
                g["group"],
                str(g["pending"]),
                str(g["lag"]),
                str(g["consumers"]),
            )
    console.print(table)


@bus_app.command("dead-letters")
def bus_dead_letters(
    topic: str = typer.Option(None, "--topic", help="Only this topic"),
    limit: int = typer.Option(100, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """死信 / messages that failed max_attempts times, with their error."""
    rows = _bus().dead_letters(topic, count=limit)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("没有死信 / no dead letters")
        return
    table = Table(title=f"死信 / dead letters ({len(rows)})")
    for col in (
        "dead_id",
        "主题 topic",
        "消费组 group",
        "次数 attempts",
        "时间 at",
        "消息 message",
        "错误 error",
    ):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r["dead_id"], r["topic"], r.get("group", ""), r.get("attempts", ""), r.get("at", ""),
            r.get("d", "")[:200], r.get("error", "")[:300],
        )  # fmt: skip
    console.print(table, markup=False)


@bus_app.command("replay")
def bus_replay(
    topic: str = typer.Option(..., "--topic", help="Topic whose dead letters to replay"),
    ids: list[str] = typer.Argument(None, help="Dead-letter ids (default: all of the topic)"),
) -> None:
    """重放死信 / put dead letters back on their stream, each for the group that failed it."""
    n = _bus().replay(topic, ids or None)
    console.print(f"已重放 {n} 条 / replayed {n} message(s) on {topic}", markup=False)


@bus_app.command("purge")
def bus_purge(
    topic: str = typer.Option(..., "--topic"),
    ids: list[str] = typer.Argument(..., help="Dead-letter ids to delete"),
) -> None:
    """删除死信 / delete dead letters that will never be replayed."""
    n = _bus().purge_dead(topic, ids)
    console.print(f"已删除 {n} 条 / deleted {n} dead letter(s)", markup=False)


@bus_app.command("trim")
def bus_trim() -> None:
    """清理已确认消息 / drop stream entries every group has acknowledged."""
    bus = _bus()
    total = sum(bus.trim(t) for t in bus.topics())
    console.print(f"已清理 {total} 条 / trimmed {total} acknowledged entries", markup=False)


@bus_app.command("drop-group")
def bus_drop_group(
    topic: str = typer.Option(..., "--topic"),
    group: str = typer.Option(..., "--group"),
) -> None:
    """删除消费组 / remove a group no worker runs any more (it would hold back trimming)."""
    ok = _bus().delete_group(topic, group)
    console.print(("已删除 / removed " if ok else "不存在 / no such group ") + f"{group}", markup=False)
