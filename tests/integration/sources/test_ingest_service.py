"""The ingest service over a real database (SQLite, or PostgreSQL via YUQING_TEST_DATABASE_URL)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from yuqing.core.bus import MENTIONS_INGESTED
from yuqing.core.context import AppContext
from yuqing.sources import quarantine as q
from yuqing.sources.base import ItemDraft, ParseResult, RawPayload
from yuqing.sources.connectors.file import FileConnector, iter_payloads
from yuqing.sources.connectors.webhook import WebhookConnector
from yuqing.sources.models import Mention, Quarantine, RawItem, Source
from yuqing.sources.service import (
    INDEX_KEY,
    add_target,
    ensure_source,
    ingest_drafts,
    ingest_payloads,
    parse_count,
)

ORIGINAL = (
    "华信银行信用卡分期宣传0利息，实际每期收0.75%手续费，折算年化接近17%；储蓄卡还悄悄扣小额账户管理费。"
    "有网友在黑猫投诉维权，客服一句系统规定就打发了。"
)


def push(items: list[dict], source: str = "vendor") -> RawPayload:
    body = json.dumps({"source": source, "items": items}, ensure_ascii=False).encode()
    return RawPayload(body=body, content_type="application/json", url="webhook://test")


def collect(ctx: AppContext) -> list[int]:
    seen: list[int] = []
    ctx.bus.subscribe(MENTIONS_INGESTED, lambda batch: seen.extend(m["mention_id"] for m in batch))
    return seen


def test_ingest_normalises_stores_raw_and_publishes(ctx: AppContext) -> None:
    seen = collect(ctx)
    src = ensure_source(ctx, "vendor", "webhook", platform="weibo", tier="personal")
    items = [
        {
            "id": "w1",
            "title": "<b>华信银行</b>",
            "text": "<p>分期&nbsp;手续费</p><script>x()</script>",
            "url": "https://Weibo.com/1/abc?utm_source=x&spm=1",
            "author": {"name": "小王", "followers": "1.2万"},
            "published": "3分钟前",
            "reposts": "1,234",
            "comments": 5,
            "likes": None,
            "vendor_field": "kept",
        },
        {"id": "w2", "text": "Huaxin Bank fee dispute spreads", "published": "明天下午"},
    ]
    report = ingest_payloads(ctx, src, [push(items)], WebhookConnector())
    assert report.counts() == {"raw_items": 1, "new": 2, "exact_dupes": 0, "near_dupes": 0, "quarantined": 0}
    assert sorted(seen) == sorted(report.mention_ids)
    with ctx.db.session() as s:
        m1, m2 = s.scalars(select(Mention).order_by(Mention.id)).all()
        raw = s.scalars(select(RawItem)).one()
        assert raw.body == push(items).body and raw.size == len(raw.body) and raw.status == "parsed"
        assert len(raw.sha256) == 64
        assert s.get(Source, src.id).items_total == 2  # type: ignore[union-attr]
    assert (m1.title, m1.text) == ("华信银行", "分期 手续费")
    assert m1.canonical_url == "https://weibo.com/1/abc"
    assert m1.author == "小王" and m1.author_followers == 12000 and m1.reposts == 1234 and m1.likes == 0
    assert m1.published_at == ctx.clock.now() - timedelta(minutes=3)
    assert m1.raw_item_id == raw.id and m1.lang == "zh" and m1.platform == "weibo"
    assert m1.extra["vendor_field"] == "kept"
    # unparseable time: the fetch time, with the raw value kept
    assert m2.published_at == ctx.clock.now() and m2.extra["published_raw"] == "明天下午"
    assert m2.lang == "en"


def test_exact_duplicates_are_skipped_and_not_published(ctx: AppContext) -> None:
    seen = collect(ctx)
    src = ensure_source(ctx, "vendor", "webhook")
    other = ensure_source(ctx, "other", "webhook")
    first = [
        {"id": "a", "text": "one"},
        {"url": "https://x.cn/p?id=1&utm_medium=z", "text": "two"},
        {"text": "three", "author": "u"},
    ]
    ingest_payloads(ctx, src, [push(first)], WebhookConnector())
    again = [
        {"id": "a", "text": "changed text, same vendor id"},
        {"url": "https://X.cn/p?id=1#top", "text": "same page"},
        {"text": "three", "author": "u"},
        {"id": "a", "text": "in-batch repeat"},
    ]
    report = ingest_payloads(ctx, src, [push(again)], WebhookConnector())
    assert report.exact_dupes == 4 and report.new == 0
    assert len(seen) == 3
    # another source may reuse the vendor id "a"
    assert ingest_payloads(ctx, other, [push([{"id": "a", "text": "x"}])], WebhookConnector()).new == 1


def test_near_duplicates_link_to_the_original_and_add_reach(ctx: AppContext) -> None:
    seen = collect(ctx)
    src = ensure_source(ctx, "vendor", "webhook")
    items = [
        {"id": "o", "text": ORIGINAL, "author": "老K", "followers": 1_000_000},
        {"id": "c1", "text": f"转发微博//@老K:{ORIGINAL}", "followers": 100, "reposts": 1, "likes": 2},
        {"id": "c2", "text": f"太离谱//@小王:我也是//@老K:{ORIGINAL}", "followers": 50, "comments": 3},
    ]
    report = ingest_payloads(ctx, src, [push(items[:2])], WebhookConnector())
    report2 = ingest_payloads(ctx, src, [push(items[2:])], WebhookConnector())
    assert (report.new, report.near_dupes, report2.near_dupes) == (1, 1, 1)
    assert len(seen) == 3  # near-dups are published too
    with ctx.db.session() as s:
        o, c1, c2 = s.scalars(select(Mention).order_by(Mention.id)).all()
    assert c1.duplicate_of_id == o.id and c2.duplicate_of_id == o.id
    assert o.duplicate_of_id is None and o.dup_count == 2 and o.dup_reach == 103 + 53
    assert c1.dup_similarity is not None and c1.dup_similarity >= 0.7


def test_near_dup_index_survives_restart(ctx: AppContext) -> None:
    src = ensure_source(ctx, "vendor", "webhook")
    ingest_payloads(ctx, src, [push([{"id": "o", "text": ORIGINAL}])], WebhookConnector())
    ctx.extras.pop(INDEX_KEY)  # a new process: the index is rebuilt from recent mentions
    ctx.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    report = ingest_payloads(
        ctx, src, [push([{"id": "c", "text": "转发微博 " + ORIGINAL}])], WebhookConnector()
    )
    assert report.near_dupes == 1
    # beyond the window (7 days) nothing is matched
    ctx.extras.pop(INDEX_KEY)
    ctx.clock.advance(timedelta(days=8))  # type: ignore[attr-defined]
    report = ingest_payloads(ctx, src, [push([{"id": "d", "text": ORIGINAL + "！"}])], WebhookConnector())
    assert report.new == 1 and report.near_dupes == 0


def test_duplicate_flood(ctx: AppContext) -> None:
    seen = collect(ctx)
    src = ensure_source(ctx, "vendor", "webhook")
    payload = push([{"id": f"x{i % 5}", "text": f"post {i % 5}"} for i in range(2500)])
    report = ingest_payloads(ctx, src, [payload, payload], WebhookConnector())
    assert report.new == 5 and report.exact_dupes == 4995 and len(seen) == 5
    with ctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Mention)) == 5


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty_body"),
        (b"   ", "empty_body"),
        (b'{"source": "vendor", "items": [{"id": 1, "text": "trunc', "malformed_json"),
        (b"\xff\xfe\x00garbage", "malformed_json"),
        (b'{"items": "not a list"}', "bad_body"),
        (b"<rss><channel><item>", "malformed_json"),
    ],
)
def test_bad_payloads_are_quarantined_with_raw_kept(ctx: AppContext, body: bytes, reason: str) -> None:
    src = ensure_source(ctx, "vendor", "webhook")
    report = ingest_payloads(ctx, src, [RawPayload(body=body)], WebhookConnector())
    assert report.counts() == {"raw_items": 1, "new": 0, "exact_dupes": 0, "near_dupes": 0, "quarantined": 1}
    with ctx.db.session() as s:
        entry = s.scalars(select(Quarantine)).one()
        raw = s.get(RawItem, entry.raw_item_id)
    assert entry.reason == reason and entry.stage == "parse" and entry.status == "open"
    assert raw is not None and raw.body == body and raw.status == "quarantined"


def test_a_crashing_connector_never_crashes_the_caller(ctx: AppContext) -> None:
    class Broken:
        name = "broken"

        def fetch(self, source: object, ctx: object) -> list[RawPayload]:
            return []

        def parse(self, source: object, raw: RawPayload) -> ParseResult:
            raise RuntimeError("bug in a third-party connector")

    src = ensure_source(ctx, "vendor", "webhook")
    report = ingest_payloads(ctx, src, [RawPayload(body=b"x")], Broken())  # type: ignore[arg-type]
    assert report.quarantined == 1
    assert q.list_entries(ctx)[0].reason == "parse_failed"


def test_item_errors_quarantined_and_replayed(ctx: AppContext, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"title": "a", "text": "fine"}\n{"title": "b"\n{"title": "", "text": ""}\n')
    src = ensure_source(ctx, "file-src", "file", platform="forum")
    report = ingest_payloads(ctx, src, iter_payloads(path), FileConnector())
    assert report.new == 1 and report.quarantined == 2
    entries = {e.reason: e for e in q.list_entries(ctx)}
    assert set(entries) == {"malformed_json", "empty_item"}
    assert entries["empty_item"].stage == "normalise"
    # replay before the cause is fixed: fails, recorded on the same entry
    result = q.replay(ctx, entries["malformed_json"].id)
    assert result.status == "failed" and result.error
    assert q.counts(ctx) == {"open": 1, "failed": 1}
    # fix the cause (here: a mapping that reads the fields the rows do have) and replay the draft
    with ctx.db.session() as s:
        s.get(Source, src.id).config = {"mapping": {"fields": {"title": {"const": "标题"}, "text": "text"}}}  # type: ignore[union-attr]
    from sqlalchemy import update

    with ctx.db.session() as s:
        s.execute(
            update(Quarantine)
            .where(Quarantine.id == entries["malformed_json"].id)
            .values(
                payload={"item": {"row": 2, "raw": '{"title": "b", "text": "repaired"}', "format": "jsonl"}}
            )
        )
    result = q.replay(ctx, entries["malformed_json"].id)
    assert result.status == "replayed" and result.report.new == 1
    entry, _, _ = q.get_entry(ctx, entries["malformed_json"].id)
    assert entry.attempts == 2 and entry.replay_error is None


def test_replay_of_a_whole_payload(ctx: AppContext) -> None:
    src = ensure_source(ctx, "vendor", "webhook")
    ingest_payloads(ctx, src, [RawPayload(body=b'{"items": [')], WebhookConnector())
    (entry,) = q.list_entries(ctx)
    assert q.replay(ctx, entry.id).status == "failed"
    with ctx.db.session() as s:  # the vendor's payload is repaired in place (e.g. re-delivered)
        raw = s.get(RawItem, entry.raw_item_id)
        raw.body = json.dumps({"items": [{"id": "1", "text": "now fine"}]}).encode()  # type: ignore[union-attr]
    result = q.replay(ctx, entry.id)
    assert result.status == "replayed" and result.report.new == 1
    assert q.replay_all(ctx, status="open") == []


def test_ingest_drafts_outcomes(ctx: AppContext) -> None:
    src = ensure_source(ctx, "vendor", "webhook")
    drafts = [
        (None, ItemDraft(text="x", external_id="1")),
        (None, ItemDraft()),
        (None, ItemDraft(text="y", external_id="1")),
    ]
    report, outcomes = ingest_drafts(ctx, src, drafts)
    assert [o.status for o in outcomes] == ["accepted", "rejected", "duplicate"]
    assert outcomes[1].code == "empty_item"
    assert report.quarantined == 1


def test_targets_and_sources_helpers(ctx: AppContext) -> None:
    t = add_target(ctx, "华信银行", aliases=["华信", "HXB"], rule="(华信 OR HXB) NOT 招聘", exclude=["招聘"])
    t2 = add_target(ctx, "华信银行", aliases=["华信"], is_own=True)
    assert t.id == t2.id and t2.aliases == ["华信"]
    a = ensure_source(ctx, "s", "rss", url="https://e.cn/feed", tier="central_media")
    b = ensure_source(ctx, "s", "rss")
    assert a.id == b.id and b.tier == "central_media"
    from yuqing.errors import ValidationError

    with pytest.raises(ValidationError):
        ensure_source(ctx, "bad", "rss", tier="gossip")


@pytest.mark.parametrize(
    ("raw", "n"),
    [
        (None, 0),
        (5, 5),
        (-3, 0),
        (2.7, 2),
        ("1,234", 1234),
        ("1.2万", 12000),
        ("3k", 3000),
        ("10w+", 100000),
        ("2亿", 200_000_000),
        ("many", 0),
        (float("nan"), 0),
        (True, 0),
    ],
)
def test_parse_count(raw: object, n: int) -> None:
    assert parse_count(raw) == n
