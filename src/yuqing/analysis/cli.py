"""Commands: ``yuqing train|eval sentiment|subject|risk``, ``analyse``, ``targets``, ``label``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from yuqing.core.cli import app, console, eval_app, get_context, print_json, train_app
from yuqing.errors import ValidationError

targets_app = typer.Typer(help="监测主体 / watch targets and their keyword rules", no_args_is_help=True)
app.add_typer(targets_app, name="targets")

DATA_HELP = (
    "公开数据目录（../shared/data）或自有 JSONL 文件 / shared data dir, or your own labelled JSONL file"
)


# --- training ---------------------------------------------------------------------------------------


def _labels_from_db(kind: str) -> tuple[list[Any], int]:
    """Analysts' corrections as training records."""
    from sqlalchemy import select

    from yuqing.analysis import datasets
    from yuqing.analysis.lang import detect
    from yuqing.analysis.service import labels
    from yuqing.sources.models import Mention, Target

    ctx = get_context()
    out: list[Any] = []
    with ctx.db.session() as s:
        kinds = {"sentiment": ("sentiment",), "risk": ("risk",), "subject": ("subject", "not_about_target")}[
            kind
        ]
        rows = [lb for k in kinds for lb in labels(s, k)]
        mentions = {
            m.id: m for m in s.scalars(select(Mention).where(Mention.id.in_({lb.mention_id for lb in rows})))
        }
        names = {t.id: t.name for t in s.scalars(select(Target))}
        for lb in rows:
            m = mentions.get(lb.mention_id)
            if m is None:
                continue
            text = f"{m.title}。{m.text}" if m.title and m.title not in m.text else m.text
            if kind == "sentiment":
                out.append(
                    datasets.Labelled(text, lb.value, f"labels_{'en' if detect(text) == 'en' else 'zh'}")
                )
            elif kind == "risk":
                out.append(datasets.Labelled(text, lb.value, "labels"))
            elif lb.target_id in names:
                name = names[lb.target_id]
                neg = lb.kind == "subject" and lb.value == "negative"
                out.append(
                    datasets.SubjectRecord(
                        f"label{lb.id}", m.title or "", m.text, [name], neg, [name] if neg else []
                    )
                )
    return out, len(out)


def _file_records(kind: str, path: Path) -> list[Any]:
    from yuqing.analysis import datasets, evaluate
    from yuqing.analysis.lang import detect
    from yuqing.analysis.risk import RISK_TYPES

    rows = datasets.read_jsonl(path)
    out: list[Any] = []
    for r in rows:
        text = evaluate._text(r, path)
        if kind == "sentiment":
            lab = evaluate._label(r, path, evaluate.SENT_3)
            out.append(datasets.Labelled(text, lab, f"file_{'en' if detect(text) == 'en' else 'zh'}"))
        elif kind == "risk":
            out.append(datasets.Labelled(text, evaluate._label(r, path, frozenset(RISK_TYPES)), "file"))
        else:
            raw_ents, raw_negs = r.get("entities"), r.get("negative_entities")
            ents = [e for e in raw_ents if isinstance(e, str)] if isinstance(raw_ents, list) else []
            negs = [e for e in raw_negs if isinstance(e, str)] if isinstance(raw_negs, list) else []
            out.append(
                datasets.SubjectRecord(
                    str(r["_line"]), str(r.get("title") or ""), text, ents, bool(negs), negs
                )
            )
    return out


def _train(kind: str, data: Path, with_labels: bool, out: Path | None) -> None:
    from yuqing.analysis import datasets, registry, train

    out_dir = out or registry.shipped_dir()
    root: Path | None = data
    extra: list[Any] = []
    hashes: dict[str, str] = {}
    if data.is_file():
        root = None
        extra = _file_records(kind, data)
        hashes = {data.name: datasets.sha256(data)}
    elif not data.is_dir():
        raise ValidationError(f"找不到数据 / data not found: {data}", code="data_missing")
    n_labels = 0
    if with_labels:
        lab, n_labels = _labels_from_db(kind)
        extra += lab
    if kind == "sentiment":
        result = train.train_sentiment(root, out_dir, extra, extra_hashes=hashes)
    elif kind == "subject":
        result = train.train_subject(root, out_dir, extra, extra_hashes=hashes)
    else:
        result = train.train_risk(root, out_dir, extra, extra_hashes=hashes)
    if not result.models:
        raise ValidationError("没有可训练的数据 / no trainable data (need at least two classes)")
    for model in result.models:
        card = train.write_card(model, out_dir)
        console.print(
            f"已训练 / trained [bold]{model.name}[/] {model.version} -> {out_dir} (card: {card.name})"
        )
    if with_labels:
        console.print(f"使用分析员标注 / analysts' labels used: {n_labels}")
    registry.clear_cache()
    print_json(result.metrics)


@train_app.command("sentiment")
def train_sentiment_cmd(
    data: Path = typer.Option(..., "--data", help=DATA_HELP),
    with_labels: bool = typer.Option(
        False, "--with-labels", help="加入分析员的更正 / add analysts' corrections"
    ),
    out: Path | None = typer.Option(None, "--out", help="输出目录 / output dir (default: shipped models)"),
) -> None:
    """训练情感模型 / train the zh + en sentiment models."""
    _train("sentiment", data, with_labels, out)


@train_app.command("sentiment-transformer")
def train_sentiment_transformer_cmd(
    data: Path = typer.Option(..., "--data", help="公开数据目录 / shared data dir (../shared/data)"),
    out: Path | None = typer.Option(None, "--out", help="输出目录 / output dir (default: shipped models)"),
    epochs: int | None = typer.Option(
        None, help="轮数（默认 3）/ epochs (default 3; fewer for a quick check)"
    ),
    limit: int | None = typer.Option(
        None, help="只用前 N 行（快速检查）/ first N training rows (quick check)"
    ),
) -> None:
    """微调英文情感 transformer（需 train-transformer 依赖，CPU 约 25–45 分钟）/ fine-tune the English
    sentiment transformer (needs the train-transformer extra; about 25-45 CPU-minutes)."""
    from yuqing.analysis import registry
    from yuqing.analysis.train_transformer import train_sentiment_transformer

    if not data.is_dir():
        raise ValidationError(f"找不到数据 / data not found: {data}", code="data_missing")
    out_dir = out or registry.shipped_dir()
    result = train_sentiment_transformer(data, out_dir, epochs=epochs, limit=limit)
    console.print(f"已训练 / trained [bold]{result['model']}[/] {result['version']} -> {out_dir}")
    registry.clear_cache()
    print_json(result)


@train_app.command("token-vectors")
def train_token_vectors_cmd(
    data: Path | None = typer.Option(
        None,
        "--data",
        help="公开数据目录，用于记录聚类效果 / shared data dir (records the clustering effect)",
    ),
    out: Path | None = typer.Option(None, "--out", help="输出目录 / output dir (default: shipped vectors)"),
) -> None:
    """提取事件聚类用的英文词向量（需 train-transformer 依赖）/ distil the English word vectors used by
    event clustering (needs the train-transformer extra)."""
    from yuqing.events import vectors
    from yuqing.events.train_vectors import train_token_vectors

    out_dir = out or vectors.shipped_path().parent
    result = train_token_vectors(out_dir, data)
    console.print(f"已生成 / distilled [bold]{result['model']}[/] {result['version']} -> {out_dir}")
    vectors.clear_cache()
    print_json(result)


@train_app.command("subject")
def train_subject_cmd(
    data: Path = typer.Option(..., "--data", help=DATA_HELP),
    with_labels: bool = typer.Option(False, "--with-labels"),
    out: Path | None = typer.Option(None, "--out"),
) -> None:
    """训练负面主体模型 / train the target-level negativity model (finnsp)."""
    _train("subject", data, with_labels, out)


@train_app.command("risk")
def train_risk_cmd(
    data: Path = typer.Option(..., "--data", help=DATA_HELP),
    with_labels: bool = typer.Option(False, "--with-labels"),
    out: Path | None = typer.Option(None, "--out"),
) -> None:
    """训练风险类型模型 / train the risk-type model (CCKS 2019 types)."""
    _train("risk", data, with_labels, out)


# --- evaluation -------------------------------------------------------------------------------------


def _eval(kind: str, data: Path, as_json: bool, model_dir: str | None) -> None:
    from yuqing.analysis.evaluate import evaluate

    result = evaluate(kind, data, model_dir)
    if as_json:
        print_json(result)
        return
    table = Table(title=f"评估 / eval {kind}: {escape(str(data))}")
    table.add_column("指标 / metric")
    table.add_column("值 / value", justify="right")
    for k, v in result.items():
        if k not in ("kind", "data"):
            table.add_row(
                k, escape(json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else str(v))
            )
    console.print(table)


_JSON = typer.Option(False, "--json", help="输出一个 JSON 对象 / print one JSON object")
_MODEL_DIR = typer.Option(None, "--model-dir", help="模型目录 / model dir (default: configured/shipped)")


@eval_app.command("sentiment")
def eval_sentiment_cmd(
    data: Path = typer.Option(..., "--data", help="JSONL: {text, label}"),
    as_json: bool = _JSON,
    model_dir: str | None = _MODEL_DIR,
) -> None:
    """评估情感 / sentiment: n, accuracy, negative P/R/F1, macro F1, texts/s."""
    _eval("sentiment", data, as_json, model_dir)


@eval_app.command("subject")
def eval_subject_cmd(
    data: Path = typer.Option(..., "--data", help="JSONL: {text, entities, negative_entities[, title]}"),
    as_json: bool = _JSON,
    model_dir: str | None = _MODEL_DIR,
) -> None:
    """评估负面主体 / subject: text F1, entity P/R/F1, score (BDCI 2019)."""
    _eval("subject", data, as_json, model_dir)


@eval_app.command("risk")
def eval_risk_cmd(
    data: Path = typer.Option(..., "--data", help="JSONL: {text, label}"),
    as_json: bool = _JSON,
    model_dir: str | None = _MODEL_DIR,
) -> None:
    """评估风险类型 / risk: n, accuracy, macro F1, texts/s."""
    _eval("risk", data, as_json, model_dir)


# --- re-analysis and labels ---------------------------------------------------------------------------


def _parse_since(since: str) -> datetime:
    from yuqing.core.clock import ensure_utc

    try:
        dt = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"时间格式应为 ISO 8601 / --since must be ISO 8601: {since!r}") from None
    if dt.tzinfo is None:
        raise ValidationError(f"请带时区，如 2026-03-01T00:00+08:00 / --since needs a time zone: {since!r}")
    return ensure_utc(dt)


def _target_id(session: Any, target: str) -> int:
    from sqlalchemy import select

    from yuqing.errors import NotFound
    from yuqing.sources.models import Target

    t = session.scalar(select(Target).where(Target.name == target))
    if t is None and target.isdigit():
        t = session.get(Target, int(target))
    if t is None:
        raise NotFound(f"监测主体不存在 / target not found: {target}")
    return int(t.id)


@app.command("analyse")
def analyse_cmd(
    since: str | None = typer.Option(
        None, "--since", help="自此时间（入库时间）/ mentions ingested since (ISO 8601)"
    ),
    all_: bool = typer.Option(False, "--all", help="全部重新分析 / every mention"),
    target: str | None = typer.Option(
        None, "--target", help="仅此监测主体 / only mentions matched to this target"
    ),
) -> None:
    """重新分析 / re-analyse stored mentions with the current models."""
    from yuqing.analysis.service import reanalyse
    from yuqing.core.pipeline import register_stages

    if not since and not all_:
        raise ValidationError("需要 --since 或 --all / give --since ISO or --all")
    if since and all_:
        raise ValidationError("--since 与 --all 只能选一个 / use either --since or --all")
    ctx = get_context()
    register_stages(ctx, ("events", "alerts", "incidents", "reports"))  # downstream stages see the update
    target_id = None
    if target:
        with ctx.db.session() as s:
            target_id = _target_id(s, target)
    n = reanalyse(ctx, _parse_since(since) if since else None, target_id)
    console.print(f"已重新分析 / re-analysed {n} 条信息 / mentions")


@app.command("label")
def label_cmd(
    mention_id: int = typer.Argument(..., help="信息编号 / mention id"),
    kind: str = typer.Argument(..., help="sentiment | subject | risk | not_about_target"),
    value: str = typer.Argument(..., help="标注值 / value (e.g. negative, 系统故障, a target name)"),
    by: str = typer.Option("cli", "--by", help="标注人 / analyst"),
    target: str | None = typer.Option(
        None, "--target", help="subject 标注的监测主体 / target of a subject label"
    ),
) -> None:
    """记录分析员更正 / record an analyst's correction (feeds `yuqing train --with-labels`)."""
    from yuqing.analysis.service import record_label

    ctx = get_context()
    target_id = None
    if target:
        with ctx.db.session() as s:
            target_id = _target_id(s, target)
    label_id = record_label(ctx, mention_id, kind, value, by, target_id=target_id)
    console.print(f"已记录标注 / label {label_id} recorded")


# --- targets ------------------------------------------------------------------------------------------


@targets_app.command("list")
def targets_list(as_json: bool = _JSON) -> None:
    """列出监测主体 / list watch targets."""
    from sqlalchemy import select

    from yuqing.sources.models import Target

    ctx = get_context()
    with ctx.db.session() as s:
        rows = list(s.scalars(select(Target).order_by(Target.id)))
    data: list[dict[str, Any]] = [
        {
            "id": t.id,
            "name": t.name,
            "aliases": t.aliases,
            "executives": t.executives,
            "products": t.products,
            "rule": t.rule,
            "exclude": t.exclude,
            "is_own": t.is_own,
            "enabled": t.enabled,
        }
        for t in rows
    ]
    if as_json:
        print_json(data)
        return
    table = Table(title="监测主体 / watch targets")
    for col in ("id", "名称 name", "别名 aliases", "规则 rule", "排除 exclude", "本机构 own"):
        table.add_column(col)
    for d in data:
        table.add_row(
            str(d["id"]),
            escape(str(d["name"])),
            escape("、".join(d["aliases"] or [])),
            escape(d["rule"] or "-"),
            escape("、".join(d["exclude"] or [])),
            "是" if d["is_own"] else "否",
        )
    console.print(table)


def _csv(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.replace("，", ",").split(",") if v.strip()]


@targets_app.command("add")
def targets_add(
    name: str = typer.Argument(..., help="名称 / name, e.g. 招商银行"),
    alias: list[str] | None = typer.Option(
        None, "--alias", "-a", help="别名，可多次或逗号分隔 / alias (repeat or comma-separate)"
    ),
    executive: list[str] | None = typer.Option(None, "--executive", "-e", help="高管 / executive"),
    product: list[str] | None = typer.Option(None, "--product", "-p", help="产品 / product"),
    rule: str | None = typer.Option(
        None, "--rule", "-r", help='关键词规则 / keyword rule, e.g. "(招行 OR 招商银行) NOT 招聘"'
    ),
    exclude: list[str] | None = typer.Option(None, "--exclude", "-x", help="排除词 / exclusion word"),
    competitor: bool = typer.Option(
        False, "--competitor", help="竞品而非本机构 / a competitor, not our firm"
    ),
) -> None:
    """添加监测主体 / add a watch target (the rule is checked first)."""
    from sqlalchemy import select

    from yuqing.analysis import rules
    from yuqing.errors import Conflict
    from yuqing.sources.models import Target

    if rule:
        rules.parse(rule)
    ctx = get_context()
    with ctx.db.session() as s:
        if s.scalar(select(Target).where(Target.name == name)) is not None:
            raise Conflict(f"监测主体已存在 / target already exists: {name}")
        t = Target(
            name=name,
            aliases=_csv(alias),
            executives=_csv(executive),
            products=_csv(product),
            rule=rule,
            exclude=_csv(exclude),
            is_own=not competitor,
            enabled=True,
            created_at=ctx.clock.now(),
        )
        s.add(t)
        s.flush()
        tid = t.id
    console.print(f"已添加监测主体 / target added: {escape(name)} (id {tid})")


@targets_app.command("test")
def targets_test(
    text: str = typer.Argument(..., help="要测试的文本 / text to test"),
    rule: str | None = typer.Option(
        None, "--rule", "-r", help="只测试这条规则 / test this rule instead of stored targets"
    ),
    as_json: bool = _JSON,
) -> None:
    """测试规则 / show which targets (and which parts of their rules) match a text."""
    from yuqing.analysis import rules
    from yuqing.analysis.lang import normalise
    from yuqing.analysis.targets import match_one

    norm = normalise(text)
    results: list[dict[str, Any]] = []
    if rule:
        node = rules.parse(rule)
        tr = rules.trace(node, norm)
        results.append(
            {
                "target": None,
                "rule": rules.to_string(node),
                "matched": tr.matched,
                "found": tr.found,
                "missing": tr.missing,
                "excluded_by": [],
            }
        )
    else:
        from yuqing.analysis.service import load_targets

        ctx = get_context()
        with ctx.db.session() as s:
            targets = load_targets(s)
        for t in targets:
            m = match_one(t, norm)
            excluded = [x for x in t.exclude_norm if rules.find_spans(norm, x)]
            if t.rule is not None:
                tr = rules.trace(t.rule, norm)
                found, missing, canon = tr.found, tr.missing, rules.to_string(t.rule)
            else:
                found = [x for x in t.terms_norm if rules.find_spans(norm, x)]
                missing, canon = [x for x in t.terms_norm if x not in found], None
            results.append(
                {
                    "target": t.spec.name,
                    "rule": canon,
                    "matched": m is not None,
                    "via": m.via if m else None,
                    "found": found,
                    "missing": missing,
                    "excluded_by": excluded,
                }
            )
    if as_json:
        print_json(results)
        return
    if not results:
        console.print("没有监测主体 / no targets configured (use `yuqing targets add`)")
    for r in results:
        mark = "[green]命中 / match[/]" if r["matched"] else "[dim]未命中 / no match[/]"
        console.print(f"{mark} {escape(str(r['target'] or '规则 / rule'))}  {escape(r['rule'] or '')}")
        console.print(
            f"   出现 / found: {escape('、'.join(r['found']) or '-')}"
            f"   未出现 / missing: {escape('、'.join(r['missing']) or '-')}"
        )
        if r["excluded_by"]:
            console.print(f"   [red]被排除词排除 / excluded by[/]: {escape('、'.join(r['excluded_by']))}")
