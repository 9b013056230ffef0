"""Ingest commands: ``yuqing sources …``, ``yuqing quarantine …``, ``yuqing ingest``, ``yuqing run``.

The groups are defined here; the commands live in ``cli_ingest`` (import, quarantine, source
registry) and ``cli_fetch`` (testing and polling sources, the long-running service).
"""

from __future__ import annotations

import typer

from yuqing.core.cli import app

sources_app = typer.Typer(help="信息源 / sources", no_args_is_help=True)
quarantine_app = typer.Typer(help="隔离区 / rejected input", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(quarantine_app, name="quarantine")

# The commands register themselves on the groups above.
from yuqing.sources import cli_fetch, cli_ingest  # noqa: E402, F401
