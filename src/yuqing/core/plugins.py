"""Plugin registry over Python entry points.

Built-in connectors and notifiers are registered exactly as a third party's would be, in
``pyproject.toml`` under ``[project.entry-points."yuqing.connectors"]`` (or ``yuqing.notifiers``).
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from yuqing.errors import ConfigError

CONNECTORS = "yuqing.connectors"
NOTIFIERS = "yuqing.notifiers"


def available(group: str) -> dict[str, Any]:
    """Name -> entry point, without importing the plugin."""
    return {ep.name: ep for ep in entry_points(group=group)}


def load(group: str, name: str) -> Any:
    eps = available(group)
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise ConfigError(f"未知插件 / unknown {group.split('.')[-1][:-1]} '{name}' (known: {known})")
    return eps[name].load()
