"""``yuqing ingest FILE``, ``yuqing sources list|add``, ``yuqing quarantine list|show|replay``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import select

from yuqing.core.cli import app, console, get_context
from yuqing.errors import ValidationError
from yuqing.sources.cli import quarantine_app, sources_app
from yuqing.sources.models import SOURCE_TIERS, Source


def report_table(title: str, counts: dict[str, int]) -> Table:
    labels = {
        "raw_items": "原始数据 / raw items",
        "new": "新增 / new",
        "near_dupes": "近似重复(已归并) / near-dupes (linked)",
        "exact_dupes": "完全重复(跳过) / exact dupes (skipped)",
        "quarantined": "隔离 / quarantined",
    }
    table = Table(title=title)
    table.add_column("项目 / item")
    table.add_column("数量 / count", justify="right")
    for key, label in labels.items():
        table.add_row(label, str(counts.get(key, 0)))
    return table


@app.command("ingest")
def ingest_file(
    file: Path = typer.Argument(..., help="JSONL, CSV/TSV or .xlsx file"),
    source: str = typer.Option(..., "--source", help="Source name (created when missing)"),
    mapping: str | None = typer.Option(
        None, "--mapping", help="Shipped mapping name (e.g. cfpb) or a YAML path"
    ),
    fmt: str | None = typer.Option(None, "--format", help="jsonl | csv | xlsx (default: from the extension)"),
    platform: str | None = typer.Option(None, help="Platform of a new source (default: the mapping's)"),
    tier: str | None = typer.Option(None, help=f"Tier of a new source: {', '.join(SOURCE_TIERS)}"),
) -> None:
    """导入文件 / import a file export through a column mapping and run the pipeline on it."""
    from yuqing.core.pipeline import register_stages
    from yuqing.sources.connectors.file import FileConnector, iter_payloads
    from yuqing.sources.mapping import load_mapping
    from yuqing.sources.service import ensure_source, ingest_payloads

    if fmt is not None and fmt not in ("jsonl", "csv", "xlsx"):
        raise ValidationError(f"未知格式 / unknown format '{fmt}' (jsonl, csv, xlsx)")
    if not file.is_file():
        raise ValidationError(f"文件不存在 / no such file: {file}")
    ctx = get_context()
    m = load_mapping(mapping)
    defaults = dict(m.source)
    config = dict(defaults.pop("config", None) or {})
    if mapping:
        config["mapping"] = str(Path(mapping).resolve()) if Path(mapping).is_file() else mapping
    if fmt:
        config["format"] = fmt
    src = ensure_source(
        ctx,
        source,
        "file",
        url=str(file.resolve()),
        platform=platform or defaults.get("platform") or m.platform or "file",
        tier=tier or defaults.get("tier") or "personal",
        config=config,
    )
    if mapping and (src.config or {}).get("mapping") != config.get("mapping"):
        # an existing source: use the mapping given now (and remember it for replays)
        with ctx.db.session() as s:
            row = s.get(Source, src.id)
            assert row is not None
            row.config = {**(row.config or {}), **config}
            src = row
    register_stages(ctx)
    payloads = iter_payloads(
        file,
        fmt or (src.config or {}).get("format") or m.format,
        chunk_rows=ctx.settings.ingest.file_chunk_rows,
        max_bytes=ctx.settings.ingest.max_file_bytes,
    )
    report = ingest_payloads(ctx, src, payloads, FileConnector())
    console.print(report_table(f"导入 / import: {file.name} → {src.name}", report.counts()))


@sources_app.command("list")
def sources_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """信源列表 / list sources."""
    ctx = get_context()
    with ctx.db.session() as s:
        rows = list(s.scalars(select(Source).order_by(Source.id)))
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "name": r.name,
                        "kind": r.kind,
                        "platform": r.platform,
                        "tier": r.tier,
                        "url": r.url,
                        "enabled": r.enabled,
                        "items_total": r.items_total,
                    }
                    for r in rows
                ],
                ensure_ascii=False,
            )
        )
        return
    table = Table(title="信源 / sources")
    for col in (
        "ID",
        "名称 / name",
        "类型 / kind",
        "平台 / platform",
        "等级 / tier",
        "条数 / items",
        "地址 / url",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r.id), r.name, r.kind, r.platform, r.tier, str(r.items_total), (r.url or "")[:60])
    console.print(table)


@sources_app.command("add")
def sources_add(
    name: str = typer.Argument(...),
    kind: str = typer.Option(..., "--kind", help="Connector: rss, web, file, webhook, …"),
    url: str | None = typer.Option(None, "--url"),
    platform: str = typer.Option("web", "--platform"),
    tier: str = typer.Option("personal", "--tier", help=", ".join(SOURCE_TIERS)),
    interval: int = typer.Option(600, "--interval", min=30, help="Poll interval in seconds"),
    allow_private: bool = typer.Option(False, "--allow-private", help="May fetch private/loopback addresses"),
    mapping: str | None = typer.Option(None, "--mapping", help="Column mapping (file/webhook)"),
) -> None:
    """添加信源 / add a source."""
    from yuqing.core.plugins import CONNECTORS, available
    from yuqing.errors import Conflict
    from yuqing.sources.service import ensure_source

    known = available(CONNECTORS)
    if kind not in known:
        raise ValidationError(f"未知连接器 / unknown connector '{kind}' (known: {', '.join(sorted(known))})")
    if tier not in SOURCE_TIERS:
        raise ValidationError(f"未知信源等级 / unknown tier '{tier}' (known: {', '.join(SOURCE_TIERS)})")
    ctx = get_context()
    with ctx.db.session() as s:
        if s.scalar(select(Source.id).where(Source.name == name)) is not None:
            raise Conflict(f"信源已存在 / source '{name}' already exists")
    src = ensure_source(
        ctx,
        name,
        kind,
        url=url,
        platform=platform,
        tier=tier,
        poll_interval_s=interval,
        allow_private=allow_private,
        config={"mapping": mapping} if mapping else {},
    )
    console.print(f"已添加信源 / source added: #{src.id} {src.name} ({src.kind}, {src.tier})")


@quarantine_app.command("list")
def quarantine_list(
    status: str | None = typer.Option(None, help="open | replayed | failed | dropped"),
    source: str | None = typer.Option(None, help="Source name"),
    limit: int = typer.Option(50, min=1),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """隔离区列表 / list quarantined input."""
    from yuqing.sources import quarantine as q

    ctx = get_context()
    rows = q.list_entries(ctx, status=status, source=source, limit=limit)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "stage": r.stage,
                        "reason": r.reason,
                        "status": r.status,
                        "source_id": r.source_id,
                        "raw_item_id": r.raw_item_id,
                        "error": r.error,
                        "created_at": r.created_at.isoformat(),
                    }
                    for r in rows
                ],
                ensure_ascii=False,
            )
        )
        return
    table = Table(title=f"隔离区 / quarantine {q.counts(ctx)}")
    for col in (
        "ID",
        "时间 / at",
        "环节 / stage",
        "原因 / reason",
        "状态 / status",
        "信源 / src",
        "错误 / error",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r.id),
            r.created_at.strftime("%m-%d %H:%M"),
            r.stage,
            r.reason,
            r.status,
            str(r.source_id or "-"),
            r.error[:70],
        )
    console.print(table)


@quarantine_app.command("show")
def quarantine_show(entry_id: int = typer.Argument(...)) -> None:
    """查看隔离条目 / show one quarantined entry with its raw input."""
    from rich.markup import escape

    from yuqing.sources import quarantine as q

    ctx = get_context()
    entry, raw, source = q.get_entry(ctx, entry_id)
    console.print(
        f"[bold]#{entry.id}[/] {entry.stage} / {escape(entry.reason)} — {entry.status}", highlight=False
    )
    console.print(f"信源 / source: {escape(source.name) if source else '-'}", highlight=False)
    console.print(f"错误 / error: {escape(entry.error)}", highlight=False)
    if entry.replay_error:
        console.print(f"重放错误 / replay error: {escape(entry.replay_error)}", highlight=False)
    if entry.payload is not None:
        console.print("条目 / item payload:", highlight=False)
        console.print(escape(json.dumps(entry.payload, ensure_ascii=False, indent=2)[:4000]), highlight=False)
    if raw is not None:
        preview = bytes(raw.body[:2000]).decode(raw.encoding or "utf-8", "replace")
        console.print(
            f"原始数据 / raw item #{raw.id}: {raw.size} bytes, sha256 {raw.sha256[:16]}…, "
            f"{escape(raw.content_type or '-')}, {escape(raw.url or '-')}",
            highlight=False,
        )
        console.print(escape(preview), highlight=False)


@quarantine_app.command("replay")
def quarantine_replay(
    entry_id: int | None = typer.Argument(None),
    replay_all: bool = typer.Option(False, "--all", help="Replay every open entry"),
) -> None:
    """重放 / re-parse quarantined input with the source's current connector and mapping."""
    from yuqing.core.pipeline import register_stages
    from yuqing.sources import quarantine as q

    if entry_id is None and not replay_all:
        raise ValidationError("请给出条目 ID 或 --all / give an entry ID or --all")
    ctx = get_context()
    register_stages(ctx)
    results = q.replay_all(ctx) if replay_all else [q.replay(ctx, entry_id)]  # type: ignore[arg-type]
    table = Table(title="重放 / replay")
    for col in ("ID", "结果 / status", "新增 / new", "重复 / dupes", "错误 / error"):
        table.add_column(col)
    for r in results:
        table.add_row(
            str(r.quarantine_id),
            r.status,
            str(r.report.new + r.report.near_dupes),
            str(r.report.exact_dupes),
            (r.error or "")[:80],
        )
    console.print(table)
