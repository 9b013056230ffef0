"""``yuqing demo``: fill the embedded database with the bundled scenario and run the whole flow.

Each domain may provide ``yuqing.<domain>.demo.run(ctx, console)``; they run in the order of
the flow. The sources step replays the scenario's mentions through the bus in time order,
moving the context's :class:`ManualClock` along, so later stages see the story unfold as it
would have live; afterwards the clock stands at the real present.
"""

from __future__ import annotations

import importlib

import typer
from rich.console import Console
from sqlalchemy import text

from yuqing.config import load_settings
from yuqing.core.cli import app, console
from yuqing.core.clock import ManualClock, SystemClock
from yuqing.core.context import AppContext, create_context
from yuqing.core.db import Base, Database, import_models
from yuqing.core.pipeline import STAGE_ORDER, register_stages
from yuqing.errors import Conflict
from yuqing.org import service as org_service


def reset_database(db: Database) -> None:
    import_models()
    Base.metadata.drop_all(db.engine)
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.upgrade()


def run_demo(ctx: AppContext, out: Console) -> list[str]:
    """Run every domain's demo step; returns the steps that ran."""
    register_stages(ctx)
    with ctx.db.session() as session:  # the plan's people must exist before the first alert routes
        if not org_service.has_org(session):
            org_service.load_org_file(session, ctx.settings.incidents.org_file, now=ctx.clock.now())
    ran = []
    for domain in STAGE_ORDER:
        name = f"yuqing.{domain}.demo"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.run(ctx, out)
        ran.append(domain)
    return ran


@app.command("demo")
def demo(
    reset: bool = typer.Option(False, "--reset", help="Wipe the database first (it must be the demo's own)"),
) -> None:
    """演示 / load the bundled scenario into the embedded database and run the whole flow."""
    settings = load_settings()
    ctx = create_context(settings, clock=ManualClock(SystemClock().now()))
    if not ctx.db.is_empty():
        if not reset:
            raise Conflict(
                f"数据库已有数据，拒绝覆盖；如确认可加 --reset / the database already holds data "
                f"({settings.database_url}); run `yuqing demo --reset` to wipe it"
            )
        reset_database(ctx.db)
    console.rule("[bold]yuqing 舆情演示 / demo")
    run_demo(ctx, console)
