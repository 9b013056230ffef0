"""Database access: declarative base, portable column types, engine and sessions, migrations.

SQLite (WAL, one writer) is the embedded default; PostgreSQL is the production store. Models use
portable types only. Every timestamp is stored as UTC and comes back timezone-aware.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from yuqing.core.clock import ensure_utc

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = ensure_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else ensure_utc(value)


class PortableJSON(TypeDecorator[Any]):
    """JSON on SQLite, JSONB-compatible JSON on PostgreSQL; always plain Python data."""

    impl = JSON
    cache_ok = True


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        connect_args = kwargs.pop("connect_args", {})
        connect_args.setdefault("check_same_thread", False)
        connect_args.setdefault("timeout", 30)
        engine = create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    return create_engine(url, **kwargs)


class Database:
    """An engine plus a session factory; services take one of these, never a global."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def upgrade(self) -> None:
        upgrade(self.engine)

    def is_empty(self) -> bool:
        """True when no domain table holds a row (the demo refuses to overwrite real data)."""
        from sqlalchemy import func, select

        names = set(inspect(self.engine).get_table_names())
        with self.session() as s:
            for table in Base.metadata.sorted_tables:
                if table.name in names and s.scalar(select(func.count()).select_from(table)):
                    return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


# --- migrations -----------------------------------------------------------------------------

DOMAINS = ("sources", "org", "analysis", "events", "alerts", "incidents", "reports", "web", "scale")
PACKAGE_DIR = Path(__file__).resolve().parent.parent


def import_models() -> None:
    """Import every domain's models so ``Base.metadata`` is complete."""
    import importlib

    for domain in DOMAINS:
        with contextlib.suppress(ModuleNotFoundError):
            importlib.import_module(f"yuqing.{domain}.models")


def version_locations() -> list[str]:
    return [str(p) for d in DOMAINS if (p := PACKAGE_DIR / d / "migrations").is_dir()]


def alembic_config(engine: Engine | None = None, url: str | None = None) -> Any:
    """Alembic config built in code: one migration branch per domain, all upgraded together."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(PACKAGE_DIR / "core" / "alembic"))
    cfg.set_main_option("version_locations", " ".join(version_locations()))
    cfg.set_main_option("path_separator", "space")
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, target: str = "heads") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine=engine), target)


def current_heads(engine: Engine) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())
