"""Alembic environment: runs against the engine handed over in ``config.attributes``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from yuqing.core.db import Base, import_models, make_engine

import_models()
config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


engine = config.attributes.get("engine")
if engine is None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///yuqing.db")
with engine.connect() as conn:
    _run(conn)
    conn.commit()
