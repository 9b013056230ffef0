"""The application context: settings, database, clock and bus handed to every service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from yuqing.config import Settings, ensure_secret_key, load_settings
from yuqing.core.bus import Bus, InProcessBus
from yuqing.core.clock import Clock, SystemClock
from yuqing.core.db import Database


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: Clock
    bus: Bus
    extras: dict[str, Any] = field(default_factory=dict)


def create_context(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    bus: Bus | None = None,
    migrate: bool = True,
) -> AppContext:
    """Open the configured store (migrating it on first use) and build the context."""
    settings = settings or load_settings()
    ensure_secret_key(settings)
    db = Database(settings.database_url)
    if migrate:
        db.upgrade()
    if bus is None:
        bus = make_bus(settings)
    return AppContext(settings=settings, db=db, clock=clock or SystemClock(), bus=bus)


def make_bus(settings: Settings) -> Bus:
    if settings.bus_url.startswith("memory"):
        return InProcessBus()
    if settings.bus_url.startswith(("redis://", "rediss://", "unix://")):
        from yuqing.core.redis_bus import RedisStreamsBus

        return RedisStreamsBus.from_url(settings.bus_url, settings.bus)
    from yuqing.errors import ConfigError

    raise ConfigError(f"不支持的总线 / unsupported bus URL: {settings.bus_url}")
