"""The append-only, hash-chained incident timeline (pure).

Each entry's hash is ``sha256(prev_hash + canonical_json(entry))`` where the entry is its sequence
number, time (ISO-8601 UTC, microseconds), kind, actor and data; canonical JSON sorts keys, uses no
whitespace and keeps non-ASCII text as UTF-8. The first entry's ``prev_hash`` is :data:`GENESIS`.
The incident row keeps the head hash and the count, so deleting the last entry is detected too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

# What each kind of timeline entry means, for people (zh, en); documents and pages show these.
KIND_LABELS: dict[str, tuple[str, str]] = {
    "opened": ("启动应急", "Incident opened"),
    "event_linked": ("关联事件", "Event linked"),
    "deadlines_set": ("设定时限", "Deadlines set"),
    "playbook_applied": ("应用预案", "Playbook applied"),
    "reported_to_management": ("报告管理小组", "Reported to management"),
    "transition": ("状态变更", "Status changed"),
    "deadline_met": ("时限达成", "Deadline met"),
    "decision": ("管理小组决策", "Management decision"),
    "level_changed": ("等级调整", "Level changed"),
    "statement_drafted": ("起草声明", "Statement drafted"),
    "statement_approval": ("声明审批", "Statement approval"),
    "statement_published": ("发布声明", "Statement published"),
    "agreed_line": ("统一口径", "Agreed line set"),
    "coordination": ("内部协调", "Internal coordination"),
    "line_acknowledged": ("确认口径", "Agreed line acknowledged"),
    "resource_requested": ("申请物资", "Resource requested"),
    "resource_fulfilled": ("物资到位", "Resource fulfilled"),
    "task_comment": ("任务备注", "Task comment"),
    "task_status": ("任务状态", "Task status"),
    "task_assigned": ("任务分派", "Task assigned"),
    "overdue_alert": ("逾期提醒", "Overdue alert"),
    "action_done": ("措施完成", "Action completed"),
    "review_written": ("总结评估", "Review written"),
    "closed": ("关闭", "Closed"),
    "event_volume": ("事件声量采样", "Event volume sample"),
}


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("timeline times must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Entry:
    seq: int
    at: datetime
    kind: str
    actor: str | None
    data: dict[str, Any]
    prev_hash: str = GENESIS
    hash: str = ""
    id: int | None = None


def entry_payload(seq: int, at: datetime, kind: str, actor: str | None, data: dict[str, Any]) -> str:
    return canonical_json({"seq": seq, "at": iso(at), "kind": kind, "actor": actor, "data": data})


def entry_hash(
    prev_hash: str, seq: int, at: datetime, kind: str, actor: str | None, data: dict[str, Any]
) -> str:
    payload = prev_hash + entry_payload(seq, at, kind, actor, data)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def make_entry(
    prev: Entry | None, *, at: datetime, kind: str, actor: str | None, data: dict[str, Any]
) -> Entry:
    """The next entry after ``prev`` (``None`` for the first)."""
    seq = 1 if prev is None else prev.seq + 1
    prev_hash = GENESIS if prev is None else prev.hash
    # round-trip the data through canonical JSON so that what is hashed is what is stored
    data = json.loads(canonical_json(data))
    return Entry(seq, at, kind, actor, data, prev_hash, entry_hash(prev_hash, seq, at, kind, actor, data))


@dataclass(frozen=True)
class Verification:
    ok: bool
    count: int
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    problem: str = ""

    def message(self) -> str:
        if self.ok:
            return f"时间线完整（{self.count} 条）/ timeline intact ({self.count} entries)"
        seq = self.first_bad_seq
        return f"时间线被篡改 / timeline tampered — 第 {seq} 条 / entry {seq}: {self.problem}"


def verify(
    entries: Sequence[Entry], *, head_hash: str | None = None, count: int | None = None
) -> Verification:
    """Walk the chain in storage order (by id) and name the first entry that does not fit.

    Detects an edited entry (its hash no longer matches its content), a deleted or reordered entry
    (sequence gap or ``prev_hash`` not the previous entry's hash) and a deleted tail (head/count).
    """
    prev_hash = GENESIS
    for index, e in enumerate(entries, start=1):
        if e.seq != index:
            problem = "顺序错乱或缺失 / entry missing or out of order"
            return Verification(False, len(entries), e.seq, e.id, f"{problem} (expected seq {index})")
        if e.prev_hash != prev_hash:
            return Verification(
                False,
                len(entries),
                e.seq,
                e.id,
                "与前一条的哈希不衔接 / does not chain to the previous entry",
            )
        if entry_hash(e.prev_hash, e.seq, e.at, e.kind, e.actor, e.data) != e.hash:
            return Verification(False, len(entries), e.seq, e.id, "内容被修改 / content was edited")
        prev_hash = e.hash
    if count is not None and count != len(entries):
        return Verification(
            False,
            len(entries),
            len(entries) + 1,
            None,
            f"条目被删除（应有 {count} 条）/ entries deleted (expected {count})",
        )
    if head_hash is not None and head_hash != prev_hash:
        return Verification(False, len(entries), len(entries), None, "链头哈希不符 / head hash mismatch")
    return Verification(True, len(entries))
