"""The scheduler with the real ingest service, a real database and a real local server (ManualClock)."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from test_fetch_support import Server, serve

from yuqing.sources.models import Mention, Quarantine, RawItem, Source
from yuqing.sources.scheduler import PollOutcome, Scheduler


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with serve() as srv:
        yield srv


@pytest.fixture
def sctx(ctx: Any) -> Any:
    ctx.settings.http.timeout = 0.5
    return ctx


def add_source(ctx: Any, name: str, url: str | None, kind: str = "rss", **fields: Any) -> int:
    with ctx.db.session() as s:
        row = Source(
            name=name,
            kind=kind,
            url=url,
            platform="news",
            tier="financial_media",
            allow_private=True,
            poll_interval_s=600,
            created_at=ctx.clock.now(),
            config=fields.pop("config", {}),
            **fields,
        )
        s.add(row)
        s.flush()
        return int(row.id)


def get(ctx: Any, source_id: int) -> Source:
    with ctx.db.session() as s:
        row = s.get(Source, source_id)
        assert row is not None
        return row


def count(ctx: Any, model: Any, **where: Any) -> int:
    with ctx.db.session() as s:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return int(s.scalar(query) or 0)


def test_due_sources(sctx: Any, server: Server) -> None:
    now = sctx.clock.now()
    due_new = add_source(sctx, "new", server.url("/feed.xml"))
    due_past = add_source(sctx, "past", server.url("/feed.xml"), next_poll_at=now - timedelta(seconds=1))
    add_source(sctx, "future", server.url("/feed.xml"), next_poll_at=now + timedelta(minutes=5))
    add_source(sctx, "off", server.url("/feed.xml"), enabled=False)
    add_source(sctx, "upload", None, kind="file")
    add_source(sctx, "push", None, kind="webhook")
    scheduler = Scheduler(sctx)
    assert {s.id for s in scheduler.due_sources()} == {due_new, due_past}
    assert scheduler.next_due_at() == now - timedelta(seconds=1)


def test_poll_rss_source_then_conditional_get(sctx: Any, server: Server) -> None:
    sid = add_source(sctx, "财经要闻", server.url("/feed.xml"))
    scheduler = Scheduler(sctx, rng=random.Random(7))
    [outcome] = scheduler.run_once()
    assert outcome.ok and outcome.counts["new"] == 3
    assert count(sctx, Mention, source_id=sid) == 3
    src = get(sctx, sid)
    now = sctx.clock.now()
    assert src.etag == '"feed-v1"' and src.last_modified == "Mon, 02 Mar 2026 02:00:00 GMT"
    assert src.last_success_at == now and src.consecutive_failures == 0 and src.last_error is None
    assert timedelta(seconds=540) <= src.next_poll_at - now <= timedelta(seconds=660)
    assert scheduler.run_once() == []  # not due yet
    sctx.clock.advance(700)
    [again] = scheduler.run_once()
    assert again.ok and again.not_modified and again.report is None
    assert count(sctx, RawItem, source_id=sid) == 1  # the 304 stored nothing
    assert count(sctx, Mention, source_id=sid) == 3


def test_failures_back_off_exponentially_and_keep_received_bodies(sctx: Any, server: Server) -> None:
    sid = add_source(sctx, "down", server.url("/server-error"))
    scheduler = Scheduler(sctx, rng=random.Random(1))
    expected = [2, 4, 8, 16, 32, 36]  # × 600 s, capped at 6 h = 36 × 600 s
    for n, factor in enumerate(expected, start=1):
        [outcome] = scheduler.run_once()
        assert not outcome.ok and outcome.code == "http_error"
        src = get(sctx, sid)
        assert src.consecutive_failures == n
        assert src.last_error and src.last_error.startswith("http_error: ")
        delay = (src.next_poll_at - sctx.clock.now()).total_seconds()
        assert 0.9 * factor * 600 <= delay <= 1.1 * factor * 600
        sctx.clock.set(src.next_poll_at)
    assert count(sctx, Quarantine, source_id=sid, stage="fetch", reason="http_error") == len(expected)
    with sctx.db.session() as s:
        raw = s.scalars(select(RawItem).where(RawItem.source_id == sid)).first()
        assert raw is not None and raw.body == b"<html>maintenance</html>" and raw.status == "quarantined"
    # Recovery resets the back-off.
    with sctx.db.session() as s:
        row = s.get(Source, sid)
        assert row is not None
        row.url = server.url("/feed.xml")
    [outcome] = scheduler.run_once()
    assert outcome.ok and get(sctx, sid).consecutive_failures == 0


@pytest.mark.parametrize(
    ("path", "kind", "code"),
    [
        ("/stall", "rss", "timeout"),
        ("/loop", "rss", "redirect_loop"),
        ("/feed.xml", "no-such-kind", "config_error"),
    ],
)
def test_failures_without_a_body_are_recorded_not_quarantined(
    sctx: Any, server: Server, path: str, kind: str, code: str
) -> None:
    sid = add_source(sctx, "bad", server.url(path), kind=kind)
    [outcome] = Scheduler(sctx).run_once()
    assert outcome.code == code
    assert get(sctx, sid).consecutive_failures == 1
    assert count(sctx, Quarantine, source_id=sid) == 0


def test_blocked_address_is_a_failure(sctx: Any, server: Server) -> None:
    sid = add_source(sctx, "intranet", server.url("/feed.xml"))
    with sctx.db.session() as s:
        row = s.get(Source, sid)
        assert row is not None
        row.allow_private = False
    [outcome] = Scheduler(sctx).run_once()
    assert outcome.code == "blocked_address"
    assert get(sctx, sid).last_error.startswith("blocked_address")


def test_malformed_feed_lands_in_quarantine_and_the_loop_goes_on(sctx: Any, server: Server) -> None:
    bad = add_source(sctx, "broken", server.url("/malformed.xml"))
    good = add_source(sctx, "good", server.url("/atom.xml"))
    outcomes = Scheduler(sctx).run_once()
    assert [(o.ok, o.code) for o in outcomes] == [(False, "parse_failed"), (True, None)]
    assert count(sctx, Quarantine, source_id=bad, stage="parse", reason="malformed_feed") == 1
    assert count(sctx, RawItem, source_id=bad) == 1
    assert get(sctx, bad).consecutive_failures == 1  # a source that delivers nothing readable is failing
    assert count(sctx, Mention, source_id=good) == 1


def test_partly_bad_payloads_are_not_a_source_failure(sctx: Any, server: Server) -> None:
    sid = add_source(sctx, "partial", server.url("/partial.xml"))
    [outcome] = Scheduler(sctx).run_once()
    assert outcome.ok and outcome.counts["new"] >= 3 and outcome.counts["quarantined"] >= 1
    assert get(sctx, sid).consecutive_failures == 0


def test_web_source_polls_list_and_articles_once(sctx: Any, server: Server) -> None:
    sid = add_source(
        sctx, "财经频道", server.url("/list.html"), kind="web", config={"follow": "css:ul.news a"}
    )
    scheduler = Scheduler(sctx)
    [outcome] = scheduler.run_once()
    assert outcome.ok and outcome.payloads == 3
    assert count(sctx, Mention, source_id=sid) == 2
    sctx.clock.advance(3600)
    [again] = scheduler.run_once()
    assert again.ok and again.payloads == 1  # articles already fetched are not fetched again
    assert again.not_modified  # and the unchanged list page is not stored again
    assert count(sctx, Mention, source_id=sid) == 2
    assert count(sctx, RawItem, source_id=sid) == 3


def test_run_forever_stops_after_the_current_source(sctx: Any, server: Server) -> None:
    sctx.settings.http.concurrency = 1
    first = add_source(sctx, "a", server.url("/feed.xml"))
    second = add_source(sctx, "b", server.url("/atom.xml"))
    stop = threading.Event()
    polled: list[PollOutcome] = []

    def on_poll(outcome: PollOutcome) -> None:
        polled.append(outcome)
        stop.set()  # a SIGTERM arriving while the first source is being polled

    scheduler = Scheduler(sctx, on_poll=on_poll)
    thread = threading.Thread(target=scheduler.run_forever, args=(stop,), kwargs={"max_sleep": 0.1})
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert [o.source_id for o in polled] == [first]
    assert count(sctx, Mention, source_id=first) == 3
    assert get(sctx, second).next_poll_at is None  # still due at the next start: nothing skipped


def test_parallel_fetches_a_stalling_site_does_not_hold_up_the_others(sctx: Any, server: Server) -> None:
    sctx.settings.http.concurrency = 2
    sctx.settings.http.timeout = 2.0
    stalling = add_source(sctx, "stalls", server.url("/stall"))
    fast = add_source(sctx, "fast", server.url("/atom.xml"))
    finished: list[int] = []
    outcomes = Scheduler(sctx, on_poll=lambda o: finished.append(o.source_id)).run_once()
    assert finished == [fast, stalling]  # the fast source was ingested while the other still waited
    assert [(o.source_id, o.code) for o in outcomes] == [(stalling, "timeout"), (fast, None)]  # due order
    assert count(sctx, Mention, source_id=fast) == 1


def test_stop_lets_fetches_in_flight_finish_and_starts_no_new_one(sctx: Any, server: Server) -> None:
    sctx.settings.http.concurrency = 2
    a = add_source(sctx, "a", server.url("/feed.xml"))
    b = add_source(sctx, "b", server.url("/atom.xml"))
    c = add_source(sctx, "c", server.url("/gbk-feed.xml"))
    stop = threading.Event()
    polled: list[int] = []

    def on_poll(outcome: PollOutcome) -> None:
        polled.append(outcome.source_id)
        stop.set()

    Scheduler(sctx, on_poll=on_poll).run_once(stop)
    assert sorted(polled) == [a, b]  # both were in flight: both ingested, nothing fetched is dropped
    assert count(sctx, Mention, source_id=a) == 3 and count(sctx, Mention, source_id=b) == 1
    assert get(sctx, c).next_poll_at is None  # never started: still due at the next start
