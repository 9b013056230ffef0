"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL when asked), a manual clock.

``YUQING_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres`` runs the whole
suite on PostgreSQL (a scratch database is created per test session). Tests that need a server
(PostgreSQL, Redis) skip with a visible reason when it is absent, unless
``YUQING_TEST_REQUIRE`` names it (CI sets ``postgres,redis``), in which case they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.engine import make_url

from yuqing.config import Settings, load_settings
from yuqing.core.bus import InProcessBus
from yuqing.core.clock import ManualClock
from yuqing.core.context import AppContext
from yuqing.core.db import Base, Database, import_models, make_engine

PG_ADMIN_URL = os.environ.get(
    "YUQING_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("YUQING_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRED = {s.strip() for s in os.environ.get("YUQING_TEST_REQUIRE", "").split(",") if s.strip()}
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


# CI explores the same property-based examples on every run, so a red build is reproducible and
# never random; developers' runs keep exploring new ones.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def pytest_configure(config: pytest.Config) -> None:
    # Outside the embedded store a secret key is mandatory; the CLI tests and the subprocesses
    # they start (workers, `yuqing run`) inherit this one.
    os.environ.setdefault("YUQING_SECRET_KEY", "test-secret-key")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need(name: str, reason: str) -> None:
    """The test cannot run here: skip with ``reason``, or fail when YUQING_TEST_REQUIRE lists ``name``."""
    if name in REQUIRED:
        pytest.fail(f"{reason} but YUQING_TEST_REQUIRE lists {name}")
    pytest.skip(reason)


def need_cjk_font() -> Any:
    """The CJK font that charts and PDF documents draw with (skip, or fail under CI, without one)."""
    from yuqing.errors import ConfigError
    from yuqing.reports.charts import find_cjk_font

    try:
        return find_cjk_font()
    except ConfigError:
        need("cjk-font", "no CJK font installed (apt-get install fonts-noto-cjk fonts-wqy-microhei)")


def need_service(name: str, host: str, port: int) -> None:
    """Skip (or fail, when CI requires the service) if ``host:port`` is not answering."""
    if not _reachable(host, port):
        need(name, f"{name} not reachable at {host}:{port}")


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = make_url(PG_ADMIN_URL)
    need_service("postgres", url.host or "127.0.0.1", url.port or 5432)
    return PG_ADMIN_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = make_url(REDIS_URL.replace("redis://", "redis+x://"))
    need_service("redis", url.host or "127.0.0.1", url.port or 6379)
    return REDIS_URL


def create_pg_database(admin_url: str) -> str:
    """A fresh scratch PostgreSQL database; returns its URL."""
    name = f"yuqing_test_{uuid.uuid4().hex[:10]}"
    engine = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    engine = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The suite's database: SQLite file by default, PostgreSQL when YUQING_TEST_DATABASE_URL says so."""
    wanted = os.environ.get("YUQING_TEST_DATABASE_URL", "")
    if wanted.startswith("postgresql"):
        url = make_url(wanted)
        need_service("postgres", url.host or "127.0.0.1", url.port or 5432)
        scratch = create_pg_database(wanted)
        yield scratch
        drop_pg_database(wanted, scratch)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def migrated_db(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    db.upgrade()
    import_models()
    yield db
    db.dispose()


def truncate_all(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            # DELETE on (mostly empty) tables is far cheaper than one TRUNCATE of them all;
            # replica mode skips foreign-key triggers so the order cannot matter.
            conn.exec_driver_sql(
                "SET LOCAL session_replication_role = replica; "
                + "".join(f'DELETE FROM "{t}"; ' for t in tables)
            )
            conn.execute(
                text(
                    "SELECT setval(c.oid, 1, false) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind = 'S' AND n.nspname = current_schema()"
                )
            )
        else:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
            conn.execute(text("PRAGMA foreign_keys=ON"))


@pytest.fixture
def db(migrated_db: Database) -> Iterator[Database]:
    """A migrated, empty database for one test."""
    truncate_all(migrated_db)
    yield migrated_db


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))


@pytest.fixture
def settings(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    return load_settings(database_url=database_url, secret_key="test-secret-key")


@pytest.fixture
def ctx(db: Database, settings: Settings, clock: ManualClock) -> AppContext:
    """A full application context over the test database, with an in-process bus and a manual clock."""
    return AppContext(settings=settings, db=db, clock=clock, bus=InProcessBus())


@pytest.fixture
def make_certificate(tmp_path: Path) -> Callable[[str, str], tuple[Path, Path]]:
    """``make(name, san)``: a self-signed certificate and its key for a test TLS server, made with the
    openssl command (``san`` e.g. ``DNS:host.test`` or ``IP:127.0.0.1``)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available to make a test certificate")

    def make(name: str, san: str) -> tuple[Path, Path]:
        cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(key),
             "-out", str(cert), "-subj", f"/CN={name}", "-addext", f"subjectAltName={san}"],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return cert, key

    return make
