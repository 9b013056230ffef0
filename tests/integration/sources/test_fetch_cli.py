"""`yuqing sources test|health` in-process, and `yuqing run` as a real subprocess stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_fetch_support import Server, serve
from typer.testing import CliRunner

from yuqing.config import load_settings
from yuqing.core.context import create_context
from yuqing.sources.models import Mention, RawItem, Source


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with serve() as srv:
        yield srv


def make_db(path: Path, feed_url: str, name: str = "财经要闻") -> str:
    url = f"sqlite:///{path}"
    ctx = create_context(load_settings(database_url=url))
    with ctx.db.session() as s:
        s.add(
            Source(
                name=name,
                kind="rss",
                url=feed_url,
                platform="news",
                tier="financial_media",
                allow_private=True,
                poll_interval_s=600,
                created_at=ctx.clock.now(),
                config={},
            )
        )
    ctx.db.dispose()
    return url


def counts(url: str) -> tuple[int, int]:
    ctx = create_context(load_settings(database_url=url), migrate=False)
    try:
        with ctx.db.session() as s:
            return (
                int(s.scalar(select(func.count()).select_from(Mention)) or 0),
                int(s.scalar(select(func.count()).select_from(RawItem)) or 0),
            )
    finally:
        ctx.db.dispose()


def cli(args: list[str], url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    from yuqing.cli import _load_domain_commands
    from yuqing.core.cli import app

    _load_domain_commands()
    monkeypatch.setenv("YUQING_DATABASE_URL", url)
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_sources_test_stores_nothing_unless_asked(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_db(tmp_path / "t.db", server.url("/feed.xml"))
    code, out = cli(["sources", "test", "财经要闻"], url, monkeypatch)
    assert code == 0, out
    assert "某银行被指乱收年费" in out and "items: 3" in out
    assert counts(url) == (0, 0)
    code, out = cli(["sources", "test", "财经要闻", "--store"], url, monkeypatch)
    assert code == 0, out
    assert counts(url) == (3, 1)


def test_sources_health_table(tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    url = make_db(tmp_path / "h.db", server.url("/feed.xml"))
    code, out = cli(["sources", "health"], url, monkeypatch)
    assert code == 0, out
    assert "财经要闻" in out and "ok" in out
    code, out = cli(["sources", "health", "--json"], url, monkeypatch)
    assert code == 0 and '"status": "ok"' in out


def test_yuqing_run_polls_and_stops_gracefully_on_sigterm(tmp_path: Path, server: Server) -> None:
    url = make_db(tmp_path / "run.db", server.url("/feed.xml"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    env.update({"YUQING_DATABASE_URL": url, "YUQING_HTTP__TIMEOUT": "5", "PYTHONUNBUFFERED": "1"})
    log = (tmp_path / "run.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from yuqing.cli import main; main()", "run", "--max-sleep", "0.5"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while counts(url)[0] < 3:
            assert proc.poll() is None, (tmp_path / "run.log").read_text()
            assert time.monotonic() < deadline, "no mentions within 60 s"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, (tmp_path / "run.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    output = (tmp_path / "run.log").read_text()
    assert "service stopped" in output
    assert counts(url) == (3, 1)
