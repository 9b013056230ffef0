"""Core infrastructure: clock, bus, settings, migrations matching models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from yuqing.config import load_settings, masked_dump
from yuqing.core.bus import InProcessBus
from yuqing.core.clock import ManualClock, ensure_utc
from yuqing.core.db import Base, Database
from yuqing.errors import ConfigError


def test_manual_clock_advances_and_refuses_naive_times() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.advance(timedelta(hours=2))
    assert clock.now() == datetime(2026, 1, 1, 2, tzinfo=UTC)
    clock.advance(30)
    assert clock.now().second == 30
    with pytest.raises(ValueError):
        ManualClock(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 1, 1, 8), datetime(2026, 1, 1, 8, tzinfo=UTC)),
        (datetime(2026, 1, 1, 8, tzinfo=UTC), datetime(2026, 1, 1, 8, tzinfo=UTC)),
    ],
)
def test_ensure_utc(value: datetime, expected: datetime) -> None:
    assert ensure_utc(value) == expected


def test_bus_dispatches_fifo_without_recursion() -> None:
    bus = InProcessBus()
    seen: list[tuple[str, int]] = []

    def first(batch: list[dict]) -> None:
        for m in batch:
            seen.append(("a", m["n"]))
            if m["n"] < 3:
                bus.publish("a", [{"n": m["n"] + 1}])
                bus.publish("b", [{"n": m["n"]}])

    bus.subscribe("a", first)
    bus.subscribe("b", lambda batch: seen.extend(("b", m["n"]) for m in batch))
    bus.publish("a", [{"n": 1}])
    assert seen == [("a", 1), ("a", 2), ("b", 1), ("a", 3), ("b", 2)]
    assert bus.published["a"] == 3


def test_settings_env_and_masking(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("YUQING_DATABASE_URL", "postgresql+psycopg://u:topsecret@db:5432/y")
    monkeypatch.setenv("YUQING_HTTP__TIMEOUT", "3.5")
    monkeypatch.setenv("YUQING_SECRET_KEY", "s3cr3t")
    s = load_settings()
    assert s.http.timeout == 3.5
    dumped = str(masked_dump(s))
    assert "topsecret" not in dumped and "s3cr3t" not in dumped


def test_settings_toml_file_and_bad_value(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "yuqing.toml").write_text('language = "en"\n[http]\nmax_redirects = 2\n', encoding="utf-8")
    s = load_settings()
    assert s.language == "en" and s.http.max_redirects == 2
    monkeypatch.setenv("YUQING_HTTP__TIMEOUT", "-1")
    with pytest.raises(ConfigError, match=r"http\.timeout"):
        load_settings()


def test_missing_config_file_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("YUQING_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError):
        load_settings()


def test_migrations_match_models(migrated_db: Database) -> None:
    """Every model change comes with its migration (on the suite's backend)."""
    with migrated_db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == []


def test_utc_round_trip(db: Database) -> None:
    from yuqing.sources.models import Source

    when = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    with db.session() as s:
        s.add(Source(name="x", kind="rss", created_at=when, config={}))
    with db.session() as s:
        src = s.query(Source).one()
        assert src.created_at == when and src.created_at.tzinfo is not None


def test_configuration_reference_in_docs_is_current() -> None:
    """docs/configuration.md carries the generated table of every setting."""
    from pathlib import Path

    from yuqing.config import configuration_reference

    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert configuration_reference() in doc, "regenerate: yuqing config reference (see docs/configuration.md)"


def test_secret_key_is_generated_once_for_sqlite_and_required_elsewhere(tmp_path) -> None:
    from yuqing.config import SECRET_FILE, ensure_secret_key

    s = load_settings(database_url=f"sqlite:///{tmp_path / 'y.db'}", secret_key="")
    ensure_secret_key(s)
    key = s.secret_key.get_secret_value()
    assert len(key) >= 40 and (tmp_path / SECRET_FILE).stat().st_mode & 0o777 == 0o600
    again = load_settings(database_url=f"sqlite:///{tmp_path / 'y.db'}", secret_key="")
    ensure_secret_key(again)
    assert again.secret_key.get_secret_value() == key  # ack links and sessions survive restarts
    explicit = load_settings(database_url="postgresql+psycopg://u@h/db", secret_key="given")
    ensure_secret_key(explicit)
    assert explicit.secret_key.get_secret_value() == "given"
    with pytest.raises(ConfigError, match="YUQING_SECRET_KEY"):
        ensure_secret_key(load_settings(database_url="postgresql+psycopg://u@h/db", secret_key=""))
