"""The hash chain: intact, edited, deleted, reordered, truncated."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from yuqing.incidents import timeline as tl

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def chain(n: int = 5) -> list[tl.Entry]:
    out: list[tl.Entry] = []
    for i in range(n):
        prev = out[-1] if out else None
        out.append(
            tl.make_entry(
                prev, at=T0 + timedelta(minutes=i), kind=f"k{i}", actor="a", data={"i": i, "文本": "中文"}
            )
        )
    return out


def test_intact_chain_verifies() -> None:
    entries = chain()
    assert entries[0].prev_hash == tl.GENESIS and entries[0].seq == 1
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    result = tl.verify(entries, head_hash=entries[-1].hash, count=5)
    assert result.ok and result.count == 5 and "intact" in result.message()


def test_hash_is_over_canonical_json_with_previous_hash() -> None:
    import hashlib

    e = chain(1)[0]
    payload = (
        '{"actor":"a","at":"2026-03-02T01:00:00.000000Z","data":{"i":0,"文本":"中文"},"kind":"k0","seq":1}'
    )
    assert e.hash == hashlib.sha256((tl.GENESIS + payload).encode()).hexdigest()


@pytest.mark.parametrize(
    ("field", "value"),
    [("data", {"i": 2, "文本": "篡改"}), ("actor", "mallory"), ("kind", "x"), ("at", T0 + timedelta(days=1))],
)
def test_edited_entry_is_named(field: str, value) -> None:
    entries = chain()
    entries[2] = dataclasses.replace(entries[2], **{field: value})
    result = tl.verify(entries)
    assert not result.ok and result.first_bad_seq == 3 and "edited" in result.problem


def test_deleted_entry_is_named() -> None:
    entries = chain()
    del entries[1]
    result = tl.verify(entries)
    assert not result.ok and result.first_bad_seq == 3 and "missing" in result.problem


def test_reordered_entries_are_detected() -> None:
    entries = chain()
    entries[1], entries[2] = entries[2], entries[1]
    result = tl.verify(entries)
    assert not result.ok and result.first_bad_seq == 3


def test_renumbered_after_reorder_is_detected() -> None:
    entries = chain()
    a, b = entries[1], entries[2]
    entries[1], entries[2] = dataclasses.replace(b, seq=2), dataclasses.replace(a, seq=3)
    result = tl.verify(entries)
    assert not result.ok and result.first_bad_seq == 2


def test_recomputed_forgery_of_one_entry_breaks_the_next() -> None:
    entries = chain()
    forged = tl.make_entry(entries[1], at=entries[2].at, kind="forged", actor="a", data={})
    entries[2] = forged
    result = tl.verify(entries)
    assert not result.ok and result.first_bad_seq == 4 and "chain" in result.problem


def test_truncated_tail_needs_the_stored_head_and_count() -> None:
    entries = chain()
    head, count = entries[-1].hash, len(entries)
    truncated = entries[:-2]
    assert tl.verify(truncated).ok  # the chain alone cannot see a cut tail
    cut = tl.verify(truncated, head_hash=head, count=count)
    assert not cut.ok and "deleted" in cut.problem
    assert not tl.verify(truncated, head_hash=head).ok


def test_naive_times_refused() -> None:
    with pytest.raises(ValueError):
        tl.make_entry(None, at=datetime(2026, 1, 1), kind="x", actor=None, data={})
