"""``yuqing eval`` and ``yuqing train`` on small fixtures: the exact interface and the errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yuqing.analysis.evaluate import evaluate
from yuqing.cli import _load_domain_commands
from yuqing.core.cli import app
from yuqing.errors import ValidationError

FIX = Path(__file__).parent / "fixtures"
_load_domain_commands()


def _run(*args: str) -> dict:  # type: ignore[type-arg]
    res = CliRunner().invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_eval_sentiment_three_class() -> None:
    m = _run("eval", "sentiment", "--data", str(FIX / "sentiment3.jsonl"), "--json")
    for key in (
        "n",
        "accuracy",
        "negative_precision",
        "negative_recall",
        "negative_f1",
        "macro_f1",
        "texts_per_second",
    ):
        assert key in m
    assert m["n"] == 8 and m["labels"] == ["negative", "neutral", "positive"]
    assert 0 <= m["accuracy"] <= 1 and m["texts_per_second"] > 0


def test_eval_sentiment_two_class_counts_neutral_as_non_negative() -> None:
    m = _run("eval", "sentiment", "--data", str(FIX / "sentiment2.jsonl"), "--json")
    assert m["n"] == 3 and m["labels"] == ["negative", "non_negative"]


def test_eval_subject_reports_the_bdci_score() -> None:
    m = _run("eval", "subject", "--data", str(FIX / "subject.jsonl"), "--json")
    assert {"text_f1", "entity_precision", "entity_recall", "entity_f1", "score"} <= set(m)
    assert m["score"] == pytest.approx(0.4 * m["text_f1"] + 0.6 * m["entity_f1"], abs=1e-3)


def test_eval_risk() -> None:
    m = _run("eval", "risk", "--data", str(FIX / "risk.jsonl"), "--json")
    assert m["n"] == 4 and {"accuracy", "macro_f1", "texts_per_second"} <= set(m)


def test_eval_risk_text_with_several_types(tmp_path: Path) -> None:
    """A text carrying several types (one per subject): any of them is a right answer."""
    from yuqing.analysis.risk import RISK_TYPES

    text = "某公司董事长失联，公司被证监会立案调查，涉嫌信息披露违规，投资者集体维权"
    every = sorted(RISK_TYPES)
    data = tmp_path / "multi.jsonl"
    data.write_text(
        json.dumps({"text": text, "label": every}, ensure_ascii=False)
        + "\n"
        + json.dumps({"text": text, "label": [every[0]]}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    m = _run("eval", "risk", "--data", str(data), "--json")
    assert m["n"] == 2 and m["multi_type_rows"] == 1
    # The first row is right whatever the model says; the second only when it says every[0].
    single_right = m["accuracy"] == 1.0
    assert m["accuracy"] in (0.5, 1.0)
    assert single_right == (m["confusions_top"] == [])


@pytest.mark.parametrize(
    ("kind", "content", "fragment"),
    [
        ("sentiment", "", "empty file"),
        (
            "sentiment",
            '{"text": "好", "label": "negative"}\n{"text": "坏", "label": "bad"}\n',
            ":2: 未知标签",
        ),
        ("sentiment", '{"text": "好", "label": "negative"}\nnot json\n', ":2: 不是合法的 JSON"),
        ("sentiment", '["a list"]\n', ":1: 每行应为 JSON 对象"),
        ("sentiment", '{"label": "negative"}\n', ":1: 缺少文本字段"),
        ("sentiment", '{"text": "a", "label": "non_negative"}\n{"text": "b", "label": "neutral"}\n', ":2:"),
        ("risk", '{"text": "x", "label": "不存在"}\n', ":1: 未知标签"),
        ("risk", '{"text": "x", "label": ["信批违规", "不存在"]}\n', ":1: 未知标签"),
        (
            "subject",
            '{"text": "x", "entities": ["A"], "negative_entities": ["B"]}\n',
            ":1: negative_entities",
        ),
        ("subject", '{"text": "x", "entities": "A"}\n', ":1: entities"),
    ],
)
def test_eval_errors_name_the_line(tmp_path: Path, kind: str, content: str, fragment: str) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        evaluate(kind, p)
    assert fragment in info.value.message


def test_eval_error_exits_2_with_one_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text('{"text": "x", "label": "angry"}\n', encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "yuqing.cli", "eval", "sentiment", "--data", str(p), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "bad.jsonl:1" in proc.stderr and "angry" in proc.stderr


def test_train_on_own_jsonl_is_reproducible_and_evaluable(tmp_path: Path) -> None:
    rows = [
        {"text": t, "label": lab}
        for t, lab in [
            ("银行乱收费投诉", "negative"),
            ("服务很差排队太久", "negative"),
            ("骗子银行退钱", "negative"),
            ("系统故障无法转账", "negative"),
            ("服务很好点赞", "positive"),
            ("客户经理耐心专业", "positive"),
            ("手机银行方便好用", "positive"),
            ("网点环境舒适满意", "positive"),
            ("银行发布营业时间", "neutral"),
            ("网点周末正常营业", "neutral"),
            ("发布年度报告", "neutral"),
            ("召开股东大会", "neutral"),
        ]
        * 3
    ]
    data = tmp_path / "mine.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        res = CliRunner().invoke(app, ["train", "sentiment", "--data", str(data), "--out", str(out)])
        assert res.exit_code == 0, res.output
        assert (out / "sentiment_zh.joblib").is_file() and (out / "sentiment_zh.md").is_file()
        outs.append(out)
    from yuqing.analysis.linear import LinearModel

    a, b = (LinearModel.load(o / "sentiment_zh.joblib") for o in outs)
    assert a.version == b.version and (a.coef == b.coef).all()
    card = (outs[0] / "sentiment_zh.md").read_text("utf-8")
    assert "mine.jsonl" in card and "sha256" in card
    m = _run("eval", "sentiment", "--data", str(data), "--json", "--model-dir", str(outs[0]))
    assert m["accuracy"] > 0.8
