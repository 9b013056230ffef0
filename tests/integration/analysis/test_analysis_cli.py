"""``yuqing targets add|list|test``, ``yuqing analyse``, ``yuqing label`` against the test database."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from yuqing.analysis.models import AnalysisLabel, AnalysisResult
from yuqing.cli import _load_domain_commands
from yuqing.core.cli import app
from yuqing.core.context import AppContext
from yuqing.errors import Conflict, ValidationError
from yuqing.sources.models import Mention, Source, Target

_load_domain_commands()


@pytest.fixture
def cli_ctx(ctx: AppContext, database_url: str, monkeypatch: pytest.MonkeyPatch) -> AppContext:
    monkeypatch.setenv("YUQING_DATABASE_URL", database_url)
    return ctx


def invoke(*args: str) -> str:
    res = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.stdout


def test_targets_add_list_test(cli_ctx: AppContext) -> None:
    invoke(
        "targets",
        "add",
        "招商银行",
        "-a",
        "招行,CMB",
        "-e",
        "王良",
        "--rule",
        "(招商银行 OR 招行 OR CMB) NOT 招聘",
    )
    invoke("targets", "add", "东岳银行", "-a", "东岳", "-x", "东岳证券", "--competitor")
    listed = json.loads(invoke("targets", "list", "--json"))
    assert [(t["name"], t["is_own"]) for t in listed] == [("招商银行", True), ("东岳银行", False)]
    assert listed[0]["aliases"] == ["招行", "CMB"]

    res = json.loads(invoke("targets", "test", "招行招聘：校园招聘开启", "--json"))
    cmb = next(r for r in res if r["target"] == "招商银行")
    assert cmb["matched"] is False and "招聘" in cmb["found"]
    res = json.loads(invoke("targets", "test", "CMB 又乱收费，东岳证券也是", "--json"))
    assert [(r["target"], r["matched"]) for r in res] == [("招商银行", True), ("东岳银行", False)]
    assert res[1]["excluded_by"] == ["东岳证券"]
    text = invoke("targets", "test", "招行乱收费")
    assert "命中" in text and "招商银行" in text
    one = json.loads(invoke("targets", "test", "--rule", "华信 NEAR/4 收费", "华信银行乱收费", "--json"))
    assert one[0]["matched"] is True


def test_targets_add_refuses_bad_rule_and_duplicates(cli_ctx: AppContext) -> None:
    with pytest.raises(ValidationError) as info:
        CliRunner().invoke(app, ["targets", "add", "X", "--rule", "招行 AND ("], catch_exceptions=False)
    assert "位置 8" in info.value.message
    invoke("targets", "add", "X")
    with pytest.raises(Conflict):
        CliRunner().invoke(app, ["targets", "add", "X"], catch_exceptions=False)


def test_analyse_and_label_commands(cli_ctx: AppContext) -> None:
    ctx = cli_ctx
    now = ctx.clock.now()
    with ctx.db.session() as s:
        src = Source(name="n", kind="rss", platform="news", tier="local_media", created_at=now)
        s.add(src)
        s.add(Target(name="华信银行", aliases=["华信"], created_at=now))
        s.flush()
        for i, text in enumerate(["华信银行乱收费，客户投诉", "华信银行发布年报"]):
            s.add(Mention(source_id=src.id, platform="news", text=text, published_at=now, ingested_at=now,
                          content_hash=str(i)))  # fmt: skip
    with pytest.raises(ValidationError):
        CliRunner().invoke(app, ["analyse"], catch_exceptions=False)
    with pytest.raises(ValidationError):
        CliRunner().invoke(app, ["analyse", "--since", "2026-03-01T00:00"], catch_exceptions=False)
    out = invoke("analyse", "--all")
    assert "2" in out
    with ctx.db.session() as s:
        ids = list(s.scalars(select(AnalysisResult.mention_id).order_by(AnalysisResult.mention_id)))
        assert len(ids) == 2
    invoke("analyse", "--since", "2020-01-01T00:00+08:00", "--target", "华信银行")
    invoke("label", str(ids[1]), "sentiment", "negative", "--by", "张三")
    invoke("label", str(ids[0]), "subject", "not_negative", "--target", "华信银行")
    with ctx.db.session() as s:
        assert s.get(AnalysisResult, ids[1]).sentiment == "negative"  # type: ignore[union-attr]
        assert [lb.by for lb in s.scalars(select(AnalysisLabel))] == ["张三", "cli"]


def test_train_with_labels_uses_the_analysts_corrections(cli_ctx: AppContext, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from yuqing.analysis.linear import LinearModel
    from yuqing.analysis.service import analyse_mentions, record_label

    ctx = cli_ctx
    now = ctx.clock.now()
    with ctx.db.session() as s:
        src = Source(name="w", kind="webhook", platform="weibo", tier="personal", created_at=now)
        s.add(src)
        s.flush()
        m = Mention(source_id=src.id, platform="weibo", text="这个理财产品收益真不错", published_at=now,
                    ingested_at=now, content_hash="a")  # fmt: skip
        s.add(m)
        s.flush()
        mid = m.id
    analyse_mentions(ctx, [mid])
    record_label(ctx, mid, "sentiment", "negative", "analyst")
    rows = [{"text": t, "label": lab} for t, lab in [("很好", "positive"), ("太差", "negative")] * 10]
    data = tmp_path / "own.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = invoke("train", "sentiment", "--data", str(data), "--with-labels", "--out", str(tmp_path / "m"))
    assert "analysts' labels used: 1" in out
    model = LinearModel.load(tmp_path / "m" / "sentiment_zh.joblib")
    assert model.meta["labels_used"] == 1
