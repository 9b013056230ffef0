"""``yuqing events list|show|merge|split|labels`` and ``yuqing eval events`` through the real CLI."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from test_events_service import FEE_ZH, OTHER, OUTAGE_ZH, T0, am
from typer.testing import CliRunner

import yuqing.events.cli  # noqa: F401  (registers the commands)
from yuqing.core.cli import app
from yuqing.core.context import AppContext
from yuqing.errors import ValidationError
from yuqing.events.service import EventService

runner = CliRunner()


@pytest.fixture
def seeded(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> AppContext:
    monkeypatch.setenv("YUQING_DATABASE_URL", ctx.settings.database_url)
    svc = EventService(ctx)
    batch = [am(i + 1, t, at=T0 + timedelta(minutes=i)) for i, t in enumerate(FEE_ZH)]
    batch.append(am(10, OUTAGE_ZH, targets=(OTHER,), risk="系统故障"))
    with ctx.db.session() as s:
        svc.process(s, batch)
    return ctx


def _json(args: list[str]) -> object:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_list_show_merge_split(seeded: AppContext, tmp_path: Path) -> None:
    events = _json(["events", "list", "--json"])
    assert len(events) == 2
    by_target = {tuple(e["target_ids"]): e["event_id"] for e in events}
    fee, outage = by_target[(7,)], by_target[(9,)]
    assert [e["event_id"] for e in _json(["events", "list", "--target", "9", "--json"])] == [outage]

    shown = _json(["events", "show", str(fee), "--json"])
    assert shown["level"] == "IV" and shown["level_history"][0]["new"] == "IV"
    assert sum(b["count"] for b in shown["series"]) == 3

    res = runner.invoke(app, ["events", "show", str(fee)])
    assert res.exit_code == 0 and "等级变化" in res.output and "每小时声量" in res.output
    assert shown["related"] == []  # the outage is about another watched bank: never related

    from yuqing.events.models import Event

    with seeded.db.session() as s:  # the fee story told in other words, opened as its own event
        fee_counts = dict(s.get(Event, fee).token_counts)  # type: ignore[union-attr]
        now = seeded.clock.now()
        twin = Event(title="分期手续费又一例", first_seen=now, last_seen=now, created_at=now, updated_at=now,
                     token_counts=dict(list(fee_counts.items())[:8]))  # fmt: skip
        s.add(twin)
        s.flush()
        twin_id = twin.id
    assert [r["event_id"] for r in _json(["events", "show", str(fee), "--json"])["related"]] == [twin_id]
    res = runner.invoke(app, ["events", "show", str(fee)])
    assert "可能相关的事件" in res.output and "分期手续费又一" in res.output
    with seeded.db.session() as s:
        s.delete(s.get(Event, twin_id))

    res = runner.invoke(app, ["events", "merge", str(fee), str(outage), "--by", "王分析"])
    assert res.exit_code == 0, res.output
    assert _json(["events", "show", str(outage), "--json"])["status"] == "merged"

    res = runner.invoke(app, ["events", "split", str(fee), "--mentions", "10", "--by", "王分析"])
    assert res.exit_code == 0, res.output
    assert len(_json(["events", "list", "--json"])) == 2

    out = tmp_path / "labels.jsonl"
    res = runner.invoke(app, ["events", "labels", "--out", str(out)])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert {x["id"] for x in lines} == {1, 2, 3, 10}
    assert len({x["label"] for x in lines}) == 2


def _main(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    from yuqing.cli import main

    monkeypatch.setattr(sys, "argv", ["yuqing", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return int(exc.value.code or 0)


def test_bad_input_gives_one_line_error(
    seeded: AppContext, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main(["events", "list", "--level", "V"], monkeypatch) == 2
    err = capsys.readouterr().err
    assert "invalid level" in err and len(err.strip().splitlines()) == 1
    assert _main(["events", "show", "999"], monkeypatch) == 2
    assert "not found" in capsys.readouterr().err


def test_eval_events_json(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    rows = [
        {"id": 1, "text": "earthquake strikes coast tsunami warning", "label": "quake"},
        {"id": 2, "text": "cup final goal striker wins", "label": "final"},
        {"id": 3, "text": "tsunami warning after earthquake", "label": "quake"},
        {"id": 4, "text": "striker goal wins cup final", "label": "final"},
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    out = _json(["eval", "events", "--data", str(data), "--json"])
    assert set(out) >= {
        "n",
        "clusters_found",
        "nmi",
        "ari",
        "bcubed_precision",
        "bcubed_recall",
        "bcubed_f1",
        "docs_per_second",
    }
    assert out["n"] == 4 and out["bcubed_precision"] == 1.0
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n', encoding="utf-8")
    res = runner.invoke(app, ["eval", "events", "--data", str(bad), "--json"])
    assert res.exit_code != 0
    assert isinstance(res.exception, ValidationError) and "missing field" in str(res.exception)
