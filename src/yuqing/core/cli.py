"""The root ``yuqing`` command and the groups that several domains add to.

Domain modules ``yuqing.<domain>.cli`` import :data:`app` (or :data:`eval_app`,
:data:`train_app`) and add their commands; ``yuqing.cli`` imports them all.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console

from yuqing.core.context import AppContext, create_context

app = typer.Typer(
    name="yuqing",
    help="舆情监测与应急处置 / public-opinion monitoring and emergency response",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_app = typer.Typer(help="配置 / settings", no_args_is_help=True)
db_app = typer.Typer(help="数据库 / database migrations", no_args_is_help=True)
eval_app = typer.Typer(help="评估 / evaluate a model on labelled JSONL", no_args_is_help=True)
train_app = typer.Typer(help="训练 / train a shipped model", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(eval_app, name="eval")
app.add_typer(train_app, name="train")

console = Console()
err_console = Console(stderr=True)


def get_context(migrate: bool = True) -> AppContext:
    """The context for a CLI command: configured settings, migrated store, system clock."""
    return create_context(migrate=migrate)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str, indent=None))


@config_app.command("show")
def config_show() -> None:
    """Print the effective settings (secrets masked)."""
    from yuqing.config import load_settings, masked_dump

    console.print_json(json.dumps(masked_dump(load_settings()), ensure_ascii=False, default=str))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations (every domain branch) to the configured database."""
    ctx = get_context(migrate=False)
    ctx.db.upgrade()
    from yuqing.core.db import current_heads

    console.print(f"数据库已升级 / database at {sorted(current_heads(ctx.db.engine))}")


@db_app.command("current")
def db_current() -> None:
    """Show the applied migration heads."""
    from yuqing.core.db import current_heads

    ctx = get_context(migrate=False)
    console.print(sorted(current_heads(ctx.db.engine)))


@db_app.command("revision")
def db_revision(
    domain: str = typer.Option(..., help="Domain branch, e.g. sources"),
    message: str = typer.Option(..., "-m", "--message"),
) -> None:
    """Autogenerate a migration for DOMAIN against a scratch SQLite database (developers)."""
    import tempfile
    from pathlib import Path

    from alembic import command

    from yuqing.core.db import PACKAGE_DIR, alembic_config, make_engine, upgrade

    path = PACKAGE_DIR / domain / "migrations"
    path.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        upgrade(engine)
        cfg = alembic_config(engine=engine)
        script = _branch_head(cfg, domain)
        kwargs: dict[str, Any] = {"autogenerate": True, "version_path": str(path)}
        if script is None:
            kwargs.update(head="base", branch_label=domain)
        else:
            kwargs.update(head=f"{domain}@head")
        command.revision(cfg, message=message, **kwargs)


def _branch_head(cfg: Any, domain: str) -> str | None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(cfg)
    try:
        found = scripts.get_revisions(f"{domain}@head")
    except Exception:
        return None
    return found[0].revision if found and found[0] is not None else None


@config_app.command("reference")
def config_reference() -> None:
    """Print the configuration reference (Markdown) generated from the settings model."""
    from yuqing.config import configuration_reference

    typer.echo(configuration_reference(), nl=False)
