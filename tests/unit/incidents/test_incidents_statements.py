"""Statement templates: every kind and language, strict facts, the sandbox, escaped HTML."""

from __future__ import annotations

import pytest

from yuqing.errors import ValidationError
from yuqing.incidents import statements

FACTS = statements.StatementFacts(
    firm="华信银行",
    subject="客户反映信用卡分期手续费问题",
    summary="分期手续费未充分告知",
    level="II",
    opened_at="2026-03-02 09:00",
    date="2026年03月02日",
    hotline="95000",
    facts=("费率已在协议中列示", "首屏展示不够醒目"),
    actions=("已优化页面提示",),
)


@pytest.mark.parametrize("kind", list(statements.STATEMENT_KINDS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_shipped_template_renders(kind: str, lang: str) -> None:
    text = statements.render_statement(kind, FACTS, lang=lang)
    assert "华信银行" in text and "客户反映信用卡分期手续费问题" in text
    assert "{{" not in text and "{%" not in text
    assert text.endswith("\n") and "\n\n\n" not in text


@pytest.mark.parametrize(
    ("kind", "must"),
    [
        ("full", "1. 费率已在协议中列示"),
        ("clarification", "2. 首屏展示不够醒目"),
        ("regulator_report", "1. 已优化页面提示"),
        ("holding", "95000"),
    ],
)
def test_facts_are_filled_in(kind: str, must: str) -> None:
    assert must in statements.render_statement(kind, FACTS)


def test_holding_statement_title_is_first_line() -> None:
    text = statements.render_statement("holding", FACTS)
    assert statements.title_of(text) == "华信银行关于客户反映信用卡分期手续费问题的情况说明"


@pytest.mark.parametrize(
    ("kind", "lang", "error"), [("tweet", "zh", ValidationError), ("holding", "fr", ValidationError)]
)
def test_unknown_kind_or_language(kind, lang, error) -> None:
    with pytest.raises(error):
        statements.render_statement(kind, FACTS, lang=lang)


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ firm.__class__.__init__.__globals__ }}",
        "{{ facts.__class__.__base__ }}",
    ],
)
def test_sandbox_blocks_python_internals(source: str) -> None:
    with pytest.raises(ValidationError):
        statements.render_string(source, FACTS)


def test_missing_fact_is_an_error_not_a_blank() -> None:
    with pytest.raises(ValidationError, match="undefined"):
        statements.render_string("{{ firm }} {{ nonexistent }}", FACTS)


def test_templates_dir_overrides_file_by_file(tmp_path) -> None:
    (tmp_path / "holding.zh.txt.j2").write_text("{{ firm }}：自定义简要声明 {{ subject }}", encoding="utf-8")
    assert statements.render_statement("holding", FACTS, templates_dir=tmp_path).startswith(
        "华信银行：自定义"
    )
    # kinds the directory does not override fall back to the shipped templates
    assert statements.render_statement("full", FACTS, templates_dir=tmp_path) == statements.render_statement(
        "full", FACTS
    )


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("标题\n\n<script>alert(1)</script>", "<p>标题</p>\n<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ('a & b\nc "d"', "<p>a &amp; b<br>c &#34;d&#34;</p>"),
    ],
)
def test_html_output_escapes_everything(text: str, html: str) -> None:
    assert str(statements.to_html(text)) == html


def test_untrusted_facts_stay_plain_text_and_escape_in_html() -> None:
    hostile = statements.StatementFacts(**{**FACTS.__dict__, "subject": "<img src=x onerror=alert(1)>"})
    text = statements.render_statement("holding", hostile)
    assert "<img src=x onerror=alert(1)>" in text  # plain text keeps what was written
    assert "<img" not in str(statements.to_html(text))
