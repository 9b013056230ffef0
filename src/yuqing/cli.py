"""Entry point of the ``yuqing`` command: imports every domain's commands and runs them."""

from __future__ import annotations

import importlib
import sys

from rich.markup import escape

from yuqing.core.cli import app, err_console
from yuqing.errors import YuqingError

DOMAIN_CLIS = (
    "sources",
    "org",
    "analysis",
    "events",
    "alerts",
    "incidents",
    "reports",
    "web",
    "scale",
    "demo",
)


def _load_domain_commands() -> None:
    for name in DOMAIN_CLIS:
        importlib.import_module(f"yuqing.{name}.cli" if name != "demo" else "yuqing.demo")


def main() -> None:
    _load_domain_commands()
    try:
        app()
    except YuqingError as exc:
        err_console.print(
            f"[bold red]错误 / error[/] {escape(f'[{exc.code}] {exc.message}')}", highlight=False
        )
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
