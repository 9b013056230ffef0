"""Wires the stages that exist onto a bus, in the order of the flow.

Each domain may expose ``yuqing.<domain>.stage.register(ctx)``, which subscribes its handlers.
"""

from __future__ import annotations

import importlib

from yuqing.core.context import AppContext

STAGE_ORDER = ("sources", "analysis", "events", "alerts", "incidents", "reports", "web")


def register_stages(ctx: AppContext, stages: tuple[str, ...] = STAGE_ORDER) -> list[str]:
    registered = []
    for domain in stages:
        try:
            module = importlib.import_module(f"yuqing.{domain}.stage")
        except ModuleNotFoundError as exc:
            if exc.name == f"yuqing.{domain}.stage":
                continue
            raise
        module.register(ctx)
        registered.append(domain)
    return registered
