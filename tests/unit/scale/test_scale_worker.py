"""Worker pieces: stage loading, the serial lease and its hand-over, threads that stop; logging."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from pydantic import SecretStr

from yuqing.config import Settings
from yuqing.core.bus import InProcessBus
from yuqing.core.context import AppContext
from yuqing.core.db import Database
from yuqing.core.logging import JsonFormatter, RedactingFilter, configure_logging, redact, secrets_of
from yuqing.core.redis_bus import RedisStreamsBus, Subscription
from yuqing.errors import ConfigError
from yuqing.scale import worker as worker_mod
from yuqing.scale.worker import SerialGuard, load_stages, lock_keys, run_worker, stage_module_name

STAGE = """
SERIAL = {serial}
SEEN = []


def reset_state(ctx):
    ctx.extras["resets"] = ctx.extras.get("resets", 0) + 1


def register(ctx):
    ctx.bus.subscribe("{topic}", lambda batch: SEEN.extend(m["n"] for m in batch), name="{group}")
"""


@pytest.fixture
def redis_bus(redis_url: str) -> Iterator[RedisStreamsBus]:
    b = RedisStreamsBus(redis.Redis.from_url(redis_url), prefix=f"yqtest-{uuid.uuid4().hex[:8]}")
    yield b
    b.drop_all()
    b.close()


@pytest.fixture
def rctx(ctx: AppContext, redis_bus: RedisStreamsBus) -> AppContext:
    return AppContext(settings=ctx.settings, db=ctx.db, clock=ctx.clock, bus=redis_bus)


def write_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, serial: bool) -> str:
    name = f"scale_stage_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(
        STAGE.format(serial=serial, topic="t", group=f"{name}.g"), encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


@pytest.mark.parametrize(
    ("stage", "module"),
    [
        ("analysis", "yuqing.analysis.stage"),
        ("events", "yuqing.events.stage"),
        ("web", "yuqing.web.stage"),
        ("mycompany.stages.extra", "mycompany.stages.extra"),
        ("local_stage", "local_stage"),
    ],
)
def test_stage_names(stage: str, module: str) -> None:
    assert stage_module_name(stage) == module


def test_lock_keys_are_stable_signed_64_bit() -> None:
    a, b = lock_keys("events.handle_analysed")
    assert (a, b) == lock_keys("events.handle_analysed") and a != b
    assert all(-(2**63) <= k < 2**63 for k in (a, b))
    assert lock_keys("x") != lock_keys("y")


def test_worker_needs_the_redis_bus(ctx: AppContext) -> None:
    assert isinstance(ctx.bus, InProcessBus)
    with pytest.raises(ConfigError, match="redis"):
        run_worker(ctx, threading.Event())


def test_unknown_stage_is_an_error(rctx: AppContext) -> None:
    with pytest.raises(ConfigError, match="no such stage"):
        load_stages(rctx, ["no_such_stage_module_xyz"])


def test_serial_lease_excludes_others_and_resets_state_on_hand_over(
    rctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = write_stage(tmp_path, monkeypatch, serial=True)
    assert load_stages(rctx, [name]) == [name]
    sub = rctx.bus.subscriptions[0]  # type: ignore[attr-defined]
    assert sub.serial and sub.reset is not None
    other_db = Database(rctx.db.url)  # a second "process": its own connections
    other = AppContext(settings=rctx.settings, db=other_db, clock=rctx.clock, bus=rctx.bus)
    g1, g2 = SerialGuard(rctx, affinity_ms=0), SerialGuard(other, affinity_ms=0)
    try:
        with g1(sub) as held:
            assert held
            with g2(sub) as held2:
                assert not held2
        assert rctx.extras.get("resets") == 1  # first holder: no cache to trust
        with g1(sub) as held:
            assert held
        assert rctx.extras.get("resets") == 1  # same process again: cache kept
        monkeypatch.setattr(worker_mod, "PROCESS_TOKEN", "another-process")
        with g2(sub) as held2:
            assert held2
        # (both "processes" share this Subscription here, so the hook counts on rctx both times)
        assert rctx.extras.get("resets") == 2  # taken over by another process: reset
        monkeypatch.undo()
        with g1(sub) as held:
            assert held
        assert rctx.extras.get("resets") == 3  # taken back: reset again
        plain = Subscription("t", "free", lambda b: None)
        with g1(plain) as a, g2(plain) as b:
            assert a and b  # non-serial groups are never locked
    finally:
        g1.close()
        g2.close()
        other_db.dispose()


def test_serial_lease_is_sticky_to_the_process_that_holds_it(
    rctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = write_stage(tmp_path, monkeypatch, serial=True)
    load_stages(rctx, [name])
    sub = rctx.bus.subscriptions[0]  # type: ignore[attr-defined]
    guard = SerialGuard(rctx, affinity_ms=60_000)
    try:
        with guard(sub) as held:
            assert held
        monkeypatch.setattr(worker_mod, "PROCESS_TOKEN", "another-process")
        with guard(sub) as held:
            assert not held  # the lease is free, but the group stays with its process
        rctx.bus.client.delete(f"{rctx.bus.prefix}:sticky:{sub.group}")  # type: ignore[attr-defined]
        with guard(sub) as held:
            assert held  # the mark expired (its process died): anyone may take over
    finally:
        guard.close()


def test_run_worker_threads_consume_and_stop(
    rctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = write_stage(tmp_path, monkeypatch, serial=False)
    stop = threading.Event()
    runner = threading.Thread(
        target=run_worker, args=(rctx, stop), kwargs={"stages": [name], "concurrency": 2, "consumer": "t"}
    )
    runner.start()
    try:
        bus = rctx.bus
        assert isinstance(bus, RedisStreamsBus)
        deadline = time.monotonic() + 10
        while not bus.subscriptions and time.monotonic() < deadline:
            time.sleep(0.01)
        bus.publish("t", [{"n": i} for i in range(25)])
        seen = sys.modules[name].SEEN
        while len(seen) < 25 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sorted(seen) == list(range(25))
    finally:
        stop.set()
        runner.join(timeout=15)
    assert not runner.is_alive()


# --- logging --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("connect postgresql+psycopg://app:s3cretPW@db:5432/y", "s3cretPW", "app:***@db"),
        ("redis://:hunter22@cache:6379/0 down", "hunter22", "***@cache"),
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi", "Bearer ***"),
        ("smtp password=topsecret1 rejected", "topsecret1", "password=***"),
        ("webhook token: tok_12345 ok", "tok_12345", "token: ***"),
        ("the configured key my-signing-key leaked", "my-signing-key", "configured key ***"),
        ("nothing secret here", "", "nothing secret here"),
    ],
)
def test_redaction(text: str, hidden: str, kept: str) -> None:
    out = redact(text, ["my-signing-key"])
    if hidden:
        assert hidden not in out
    assert kept in out


def test_secrets_are_collected_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = Settings(secret_key=SecretStr("k-123456"), ingest={"webhook_token": SecretStr("w-abcdef")})
    assert {"k-123456", "w-abcdef"} <= set(secrets_of(s))


def test_json_logs_are_structured_and_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(log_json=True, secret_key=SecretStr("super-secret-key"))
    stream = io.StringIO()
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    handler = configure_logging(settings, stream=stream)
    try:
        logging.getLogger("yuqing.test").warning(
            "login with %s failed", "super-secret-key", extra={"url": "redis://:pw12345@h:6379/0", "n": 3}
        )
    finally:
        root.removeHandler(handler)
        for h in before[0]:
            root.addHandler(h)
        root.setLevel(before[1])
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["level"] == "WARNING" and line["logger"] == "yuqing.test" and line["n"] == 3
    assert "super-secret-key" not in stream.getvalue() and "pw12345" not in stream.getvalue()
    assert line["msg"] == "login with *** failed"


def test_filter_and_formatter_on_a_bare_record() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token=%s", ("abc123",), None)
    assert RedactingFilter().filter(record)
    assert json.loads(JsonFormatter().format(record))["msg"] == "token=***"


def test_roles_refuse_unknown_and_api_serves_metrics(rctx: AppContext) -> None:
    from fastapi.testclient import TestClient

    from yuqing.scale.roles import build_api, run_role

    with pytest.raises(ConfigError, match="unknown role"):
        run_role("janitor", rctx, threading.Event())
    from yuqing.web.auth import add_token

    rctx.bus.publish("t", [{"n": 1}])
    _, secret = add_token(rctx, "prometheus", ["admin"])
    with TestClient(build_api(rctx)) as client:
        assert client.get("/metrics").status_code == 401  # scrapers authenticate like any system
        body = client.get("/metrics", headers={"Authorization": f"Bearer {secret}"}).text
    assert 'yuqing_bus_queue_depth{topic="t"} 1.0' in body
