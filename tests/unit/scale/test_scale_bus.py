"""The Redis Streams bus, driven round by round (``process_once``) against the local Redis."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from yuqing.config import load_settings
from yuqing.core import metrics
from yuqing.core.context import make_bus
from yuqing.core.redis_bus import RedisStreamsBus, admit, handler_group_name, split_url
from yuqing.errors import Overloaded

pytestmark = pytest.mark.redis


@pytest.fixture
def bus(redis_url: str) -> Iterator[RedisStreamsBus]:
    client = redis.Redis.from_url(redis_url)
    b = RedisStreamsBus(
        client,
        prefix=f"yqtest-{uuid.uuid4().hex[:8]}",
        stream_maxlen=50,
        claim_idle_ms=100,
        max_attempts=3,
        batch_size=20,
    )
    yield b
    b.drop_all()
    b.close()


def wait_idle(bus: RedisStreamsBus) -> None:
    """Let pending messages become claimable and forget when we last claimed."""
    time.sleep(bus.claim_idle_ms / 1000 + 0.05)
    bus._last_claim.clear()


def _module_handler(batch: list[dict]) -> None:
    return None


@pytest.mark.parametrize(
    ("url", "plain", "options"),
    [
        ("redis://h:6379/0", "redis://h:6379/0", {}),
        ("redis://h/2?prefix=bank1&batch=50", "redis://h/2", {"prefix": "bank1", "batch": "50"}),
        (
            "rediss://u:p@h/0?ssl_cert_reqs=none&prefix=x",
            "rediss://u:p@h/0?ssl_cert_reqs=none",
            {"prefix": "x"},
        ),
    ],
)
def test_url_options_are_split_off(url: str, plain: str, options: dict) -> None:
    assert split_url(url) == (plain, options)


def test_group_names_are_stable() -> None:
    assert handler_group_name(_module_handler) == f"{__name__}._module_handler"
    assert handler_group_name(_module_handler, "analysis") == "analysis"


def test_make_bus_selects_redis(redis_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(bus_url=redis_url + "?prefix=yq-mk&batch=7", bus={"max_attempts": 2})
    bus = make_bus(settings)
    assert isinstance(bus, RedisStreamsBus)
    assert (bus.prefix, bus.batch_size, bus.max_attempts) == ("yq-mk", 7, 2)
    bus.close()


def test_each_group_gets_every_message_and_acked_entries_are_trimmed(bus: RedisStreamsBus) -> None:
    seen_a: list[int] = []
    seen_b: list[int] = []
    bus.publish("t", [{"n": i} for i in range(5)])  # before any group exists
    bus.subscribe("t", lambda batch: seen_a.extend(m["n"] for m in batch), name="a")
    bus.subscribe("t", lambda batch: seen_b.extend(m["n"] for m in batch), name="b")
    bus.publish("t", [{"n": i} for i in range(5, 30)])
    while bus.process_once("c1"):
        pass
    assert sorted(seen_a) == list(range(30)) and sorted(seen_b) == list(range(30))
    groups = {g["group"]: g for g in bus.status()[0]["groups"]}
    assert groups["a"]["pending"] == 0 and groups["b"]["lag"] == 0
    assert bus.trim("t") == 30
    assert bus.client.xlen(bus.stream_key("t")) == 0


def test_trim_keeps_what_a_slow_group_still_needs(bus: RedisStreamsBus) -> None:
    bus.subscribe("t", lambda batch: None, name="fast")
    bus.subscribe("t", lambda batch: None, name="slow")
    bus.publish("t", [{"n": i} for i in range(10)])
    fast = bus.selected(["fast"])
    bus.process_once("c1", fast)
    assert bus.trim("t") == 0  # "slow" has read nothing
    bus.client.xreadgroup("slow", "c2", {bus.stream_key("t"): ">"}, count=4)  # 4 delivered, unacked
    assert bus.trim("t") == 0  # the oldest is pending for "slow"
    bus.process_once("c2", bus.selected(["slow"]), claim=False)
    wait_idle(bus)
    bus.process_once("c2", bus.selected(["slow"]))
    assert bus.trim("t") == 10


def test_failed_batch_is_retried_per_message_then_dead_lettered_and_replayable(bus: RedisStreamsBus) -> None:
    done: list[int] = []
    other: list[int] = []
    broken = {"on": True}

    def handler(batch: list[dict]) -> None:
        if broken["on"] and any(m.get("poison") for m in batch):
            raise RuntimeError("cannot analyse this")
        done.extend(m["n"] for m in batch)

    bus.subscribe("t", handler, name="stage")
    bus.subscribe("t", lambda batch: other.extend(m["n"] for m in batch), name="other")
    bus.publish("t", [{"n": 1}, {"n": 2, "poison": True}, {"n": 3}])
    bus.process_once("c1")
    assert sorted(done) == [1, 3]  # the good ones of the failed batch went through alone
    for _ in range(bus.max_attempts):
        wait_idle(bus)
        bus.process_once("c1")
    dead = bus.dead_letters("t")
    assert len(dead) == 1
    assert dead[0]["group"] == "stage" and dead[0]["attempts"] == str(bus.max_attempts)
    assert "cannot analyse this" in dead[0]["error"] and '"n":2' in dead[0]["d"]
    assert bus.status()[0]["groups"][1]["pending"] == 0
    broken["on"] = False
    assert bus.replay("t") == 1
    bus.process_once("c1")
    assert sorted(done) == [1, 2, 3]
    assert sorted(other) == [1, 2, 3]  # the replay was for "stage" only
    assert bus.dead_letters("t") == []


def test_messages_of_a_dead_consumer_are_claimed_and_a_crash_looper_is_dead_lettered(
    bus: RedisStreamsBus,
) -> None:
    done: list[int] = []
    bus.subscribe("t", lambda batch: done.extend(m["n"] for m in batch), name="stage")
    bus.publish("t", [{"n": i} for i in range(4)])
    key = bus.stream_key("t")
    bus.client.xreadgroup("stage", "dead-worker", {key: ">"}, count=2)  # it dies holding 2
    bus.process_once("alive", claim=False)
    assert sorted(done) == [2, 3]
    wait_idle(bus)
    bus.process_once("alive")
    assert sorted(done) == [0, 1, 2, 3]
    # a message whose every delivery killed its worker
    bus.publish("t", [{"n": 99}])
    for i in range(bus.max_attempts):
        if i == 0:
            bus.client.xreadgroup("stage", f"crashing-{i}", {key: ">"}, count=1)
        else:
            time.sleep(bus.claim_idle_ms / 1000 + 0.05)
            bus.client.xautoclaim(key, "stage", f"crashing-{i}", bus.claim_idle_ms, "0-0")
    wait_idle(bus)
    bus.process_once("alive")
    assert 99 not in done
    dead = bus.dead_letters("t")
    assert len(dead) == 1 and "without acknowledgement" in dead[0]["error"]


def test_undecodable_entry_goes_to_dead_letters(bus: RedisStreamsBus) -> None:
    bus.subscribe("t", lambda batch: None, name="stage")
    bus.client.xadd(bus.stream_key("t"), {"d": "not json"})
    bus.process_once("c1")
    assert "undecodable" in bus.dead_letters("t")[0]["error"]


def test_back_pressure_refuses_instead_of_dropping(bus: RedisStreamsBus) -> None:
    got: list[int] = []
    bus.subscribe("t", lambda batch: got.extend(m["n"] for m in batch), name="stage")
    bus.publish("t", [{"n": i} for i in range(50)])
    with pytest.raises(Overloaded) as info:
        bus.publish("t", [{"n": 50}])
    assert info.value.retry_after == bus.retry_after and info.value.http_status == 503
    with pytest.raises(Overloaded):
        admit(bus, "t", 1)
    assert bus.client.xlen(bus.stream_key("t")) == 50  # nothing was dropped
    while bus.process_once("c1"):
        pass
    admit(bus, "t", 1)  # trims what was acknowledged, then admits
    bus.publish("t", [{"n": 50}])
    bus.process_once("c1")
    assert sorted(got) == list(range(51))


def test_publish_inside_a_handler_is_not_refused_and_pauses_upstream(bus: RedisStreamsBus) -> None:
    def forward(batch: list[dict]) -> None:
        bus.publish("down", batch)

    bus.subscribe("up", forward, name="forward")
    bus.subscribe("down", lambda batch: None, name="sink")
    bus.publish("up", [{"n": i} for i in range(40)])
    while bus.process_once("c1", bus.selected(["forward"])):
        pass
    bus.publish("up", [{"n": i} for i in range(40, 60)])
    bus.process_once("c1", bus.selected(["forward"]))  # 'down' goes over its bound: still accepted
    assert bus.client.xlen(bus.stream_key("down")) == 60
    bus.publish("up", [{"n": 80}])
    bus._checked_at.clear()
    assert bus.process_once("c1", bus.selected(["forward"])) == 0  # paused: downstream is full
    bus._paused_until.clear()
    while bus.process_once("c2", bus.selected(["sink"])):
        pass
    bus._checked_at.clear()
    assert bus.process_once("c1", bus.selected(["forward"])) == 1  # drained and trimmed: going again


def test_metrics_expose_queues_and_notification_latency(bus: RedisStreamsBus) -> None:
    bus.subscribe("t", lambda batch: None, name="stage")
    bus.publish("t", [{"n": 1}, {"n": 2}])
    metrics.register_bus(bus)
    metrics.observe_notification_latency("I", 42.0)
    text = metrics.render().decode()
    assert 'yuqing_bus_queue_depth{topic="t"} 2.0' in text
    assert 'yuqing_bus_consumer_lag{group="stage",topic="t"} 2.0' in text
    assert 'yuqing_notification_latency_seconds_count{level="I"}' in text
    bus.process_once("c1")
    text = metrics.render().decode()
    assert 'yuqing_stage_messages_total{group="stage",outcome="ok",topic="t"}' in text


def test_bus_cli_status_dead_letters_replay(
    bus: RedisStreamsBus, redis_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from typer.testing import CliRunner

    import yuqing.scale.cli  # noqa: F401  (adds the commands)
    from yuqing.core.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("YUQING_BUS_URL", f"{redis_url}?prefix={bus.prefix}")
    bus.subscribe("t", lambda batch: None, name="stage")
    bus.client.xadd(bus.stream_key("t"), {"d": "{broken"})
    bus.publish("t", [{"n": 1}])
    bus.process_once("c1")
    runner = CliRunner()
    out = runner.invoke(app, ["bus", "status", "--json"])
    assert out.exit_code == 0, out.output
    status = json.loads(out.output)
    assert status[0]["topic"] == "t" and status[0]["dead"] == 1
    out = runner.invoke(app, ["bus", "dead-letters", "--json"])
    dead = json.loads(out.output)
    assert len(dead) == 1 and "undecodable" in dead[0]["error"]
    out = runner.invoke(app, ["bus", "dead-letters"])
    assert "dead letters (1)" in out.output
    out = runner.invoke(app, ["bus", "purge", "--topic", "t", dead[0]["dead_id"]])
    assert "1" in out.output and bus.dead_letters("t") == []
    out = runner.invoke(app, ["bus", "trim"])
    assert out.exit_code == 0 and bus.client.xlen(bus.stream_key("t")) == 0
    monkeypatch.setenv("YUQING_BUS_URL", "memory://")
    out = runner.invoke(app, ["bus", "status"])
    assert out.exit_code != 0


def test_an_outage_holds_the_batch_without_spending_attempts(bus: RedisStreamsBus) -> None:
    import threading

    from sqlalchemy.exc import OperationalError

    calls = {"n": 0}
    done: list[int] = []

    def handler(batch: list[dict]) -> None:
        calls["n"] += 1
        if calls["n"] <= bus.max_attempts + 1:  # down for longer than the attempts would last
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database is down"))
        done.extend(m["n"] for m in batch)

    bus.subscribe("t", handler, name="stage")
    bus.publish("t", [{"n": 1}, {"n": 2}])
    bus.outage_backoff = (0.01, 0.05)
    stop = threading.Event()
    runner = threading.Thread(target=bus.run, args=(stop,), kwargs={"consumer": "c1"})
    runner.start()
    deadline = time.monotonic() + 30
    while len(done) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    runner.join(timeout=10)
    assert sorted(done) == [1, 2]
    assert calls["n"] == bus.max_attempts + 2
    assert bus.dead_letters("t") == []
    assert bus.status()[0]["groups"][0]["pending"] == 0


def test_a_topic_nobody_reads_keeps_only_its_last_maxlen_entries(bus: RedisStreamsBus) -> None:
    def forward(batch: list[dict]) -> None:
        bus.publish("unread", batch)

    bus.subscribe("t", forward, name="forward")
    for start in range(0, 80, 20):
        bus.publish("t", [{"n": i} for i in range(start, start + 20)])
        bus.process_once("c1")
    assert bus.trim("unread") == 30
    assert bus.client.xlen(bus.stream_key("unread")) == bus.stream_maxlen
    bus._checked_at.clear()
    bus.publish("t", [{"n": 80}])
    assert bus.process_once("c1") == 1  # not paused by a stream no stage reads
