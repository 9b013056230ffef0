"""Models' pure parts: calibration, subject post-rules, risk rules, trigger categories, the batch core."""

from __future__ import annotations

import numpy as np
import pytest

from yuqing.analysis import registry, risk, sentiment, subject
from yuqing.analysis.core import MentionInput, Models, analyse_batch
from yuqing.analysis.linear import LinearModel, expected_calibration_error, fit_temperature
from yuqing.analysis.targets import TargetSpec, compile_target


def test_temperature_scaling_fixes_overconfidence() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 3000)
    logits = rng.normal(0, 1, (3000, 3))
    logits[np.arange(3000), y] += 1.0
    logits *= 4  # overconfident
    t = fit_temperature(logits, y)
    assert t > 2

    def proba(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    assert expected_calibration_error(proba(logits / t), y) < expected_calibration_error(proba(logits), y) / 2


def test_linear_model_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    m = LinearModel("x", "x-1", ("a", "b"), np.array([[1.0, -1.0]], dtype=np.float32), np.array([0.5]), 2.0)
    m.save(tmp_path / "x.joblib")
    back = LinearModel.load(tmp_path / "x.joblib")
    assert back.classes == ("a", "b") and back.temperature == 2.0
    p = back.predict_proba(np.array([[1.0, 0.0]]))
    assert p.shape == (1, 2) and p[0, 1] == pytest.approx(1 / (1 + np.exp(-0.75)))


@pytest.mark.parametrize(
    ("entities", "probs", "expected"),
    [
        (["小资钱包", "小资"], [0.9, 0.8], [True, False]),  # contained in a longer negative entity
        (["小资钱包", "小资"], [0.2, 0.8], [False, True]),
        (["招商银行", "北银创投"], [0.3, 0.9], [False, True]),
        (["A", "B"], [0.5, 0.49], [True, False]),
    ],
)
def test_subject_postprocess(entities: list[str], probs: list[float], expected: list[bool]) -> None:
    assert subject.postprocess(entities, probs) == expected


@pytest.mark.parametrize(
    ("entity", "expected"),
    [
        ("小资钱包", ["kind:包"]),
        ("华信银行", ["kind:行"]),
        ("招行", ["kind:行"]),  # a short name is of the same kind as the long one
        ("e租宝", ["kind:宝"]),
    ],
)
def test_subject_entity_kind(entity: str, expected: list[str]) -> None:
    assert subject.entity_kind(entity) == expected


def test_subject_training_reports_unseen_entities(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The grouped CV also scores the texts whose entities the training folds never saw; the pair
    rows carry the entity-name block, so the saved model has its columns."""
    from yuqing.analysis import datasets, features, train

    recs = []
    for i in range(40):
        platform, bank = f"平台{i}贷", (f"第{i % 7}银行" if i < 30 else f"新{i}银行")
        negative = i % 2 == 0
        story = (
            f"{platform}爆雷，投资人无法提现，存管银行为{bank}。"
            if negative
            else f"{platform}与{bank}签约合作。"
        )
        recs.append(
            datasets.SubjectRecord(
                f"r{i}", "", story, [platform, bank], negative, [platform] if negative else []
            )
        )
    result = train.train_subject(None, tmp_path, recs)
    m = result.metrics["subject"]
    unseen = m["cv5_unseen_entities"]
    assert unseen["n"] == 10  # texts 30-39: both names occur nowhere else
    assert 0.0 <= unseen["score"] <= 1.0
    model = LinearModel.load(tmp_path / "subject_zh.joblib")
    width = subject.pair_matrix([(recs[0].text, "", recs[0].entities[0], recs[0].entities)]).shape[1]
    assert model.coef.shape[1] == width
    assert width == features.ZH_FEATURES + subject.WINDOW_FEATURES + subject.ENTITY_FEATURES + subject.N_DENSE


@pytest.mark.parametrize(
    ("tokens", "distinct"),
    [
        (["银行", "罚款", "银行"], 4),  # 银行 (twice), 罚款, 银行→罚款, 罚款→银行
        (["罚款"], 1),  # no bigram with the next text's first word
        (["2018", "2019"], 2),  # numbers are one word: 0 and 0→0
        ([], 0),
    ],
)
def test_word_vectors(tokens: list[str], distinct: int) -> None:
    from yuqing.analysis import features

    x = features.word_vectors([tokens, ["另外", "一条"]])
    assert x.shape == (2, features.WORD_FEATURES)
    assert x[0].nnz == distinct and x[1].nnz == 3
    assert float(x[0].multiply(x[0]).sum()) == pytest.approx(1.0 if tokens else 0.0)
    assert (features.word_vectors([tokens]) != x[0]).nnz == 0  # a row does not depend on its batch


def test_risk_model_without_word_columns_still_predicts() -> None:
    """A risk model trained before the word columns (char vector only) keeps working."""
    from yuqing.analysis import features

    texts = ["平台涉嫌非法集资，投资人报案", "公司发布年报"]
    x = features.zh_vectors(texts)
    classes = ("其他", "涉嫌非法集资")
    coef = np.zeros((2, x.shape[1]), dtype=np.float32)
    model = LinearModel("risk_zh", "old", classes, coef, np.array([0.0, 1.0]))
    assert [r.risk_type for r in risk.predict_matrix(model, texts, x)] == ["涉嫌非法集资", "涉嫌非法集资"]


def test_subject_attribution_and_window() -> None:
    preds = [
        subject.SubjectPrediction("小资钱包", 0.9, True),
        subject.SubjectPrediction("华信银行", 0.3, False),
        subject.SubjectPrediction("小资", 0.9, False),
    ]
    share = subject.attribution(preds)
    assert share["小资钱包"] == 1.0 and share["华信银行"] == pytest.approx(0.3333, abs=1e-3)
    assert share["小资"] == 0.5
    w = subject.window_text(
        "警方称小资钱包涉嫌诈骗，华信银行仅提供存管", "华信银行", ["小资钱包", "华信银行"]
    )
    assert subject.PLACEHOLDER in w and "华信银行" not in w and subject.OTHER in w


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("手机银行系统故障，客户无法登录和转账", "系统故障"),
        ("大量客户个人信息被泄露并在网上出售", "数据泄露"),
        ("银行乱收费，信用卡年费莫名被扣", "收费争议"),
        ("理财经理承诺保本高收益，结果买成了保险，存款变保险", "误导销售"),
        ("催收人员暴力催收，爆通讯录骚扰家人", "暴力催收"),
        ("网传该行将倒闭，储户在网点排长队取钱，出现挤兑", "挤兑/流动性谣言"),
        ("因违规放贷，该行被金融监管总局行政处罚，罚款200万元", "监管处罚"),
        ("支行客户经理挪用客户资金300万元", "员工违规"),
        ("公司发布年报", None),
    ],
)
def test_banking_risk_rules(text: str, expected: str | None) -> None:
    scores = risk.rule_scores(text)
    best = max(scores, key=lambda k: scores[k]) if scores else None
    assert (best if best and scores[best] >= risk.RULE_THRESHOLD else None) == expected
    r = risk.apply_rules(text, risk.NO_RISK, 0.7)
    assert r.risk_type == (expected or risk.NO_RISK)
    if expected:
        assert r.via == "rule" and 0.5 < r.confidence <= 0.95


@pytest.mark.parametrize(
    ("text", "model_type", "conf", "expected"),
    [
        ("公司被罚款", "信批违规", 0.9, "信批违规"),  # a specific CCKS answer stands
        ("因违规被银保监局行政处罚并罚款", "信批违规", 0.9, "信批违规"),  # confident model stands
        ("因违规被银保监局行政处罚并罚款", "信批违规", 0.4, "监管处罚"),  # strong rule, unsure model
        ("因违规被银保监局行政处罚并罚款", "其他", 0.9, "监管处罚"),  # nothing specific: rule fills in
        ("公司发布年报", "其他", 0.9, "其他"),
    ],
)
def test_rule_layer_precedence(text: str, model_type: str, conf: float, expected: str) -> None:
    assert risk.apply_rules(text, model_type, conf).risk_type == expected


@pytest.mark.parametrize(
    ("platform", "tier", "sentiment", "neg", "risk_type", "text", "expected"),
    [
        ("complaint", "personal", "neutral", 0.2, None, "", "customer_complaint"),
        ("weibo", "personal", "negative", 0.9, "收费争议", "", "customer_complaint"),
        ("news", "financial_media", "negative", 0.9, "高管负面", "", "internal_management"),
        ("weibo", "personal", "neutral", 0.3, "员工违规", "", "internal_management"),
        ("web", "regulator", "neutral", 0.1, None, "", "policy_reaction"),
        ("news", "central_media", "negative", 0.8, "监管处罚", "", "policy_reaction"),
        ("weibo", "personal", "negative", 0.8, None, "新规出台后存款利率下调，储户不满", "policy_reaction"),
        ("news", "local_media", "negative", 0.8, None, "某行服务差", "negative_media"),
        ("weibo", "self_media", "negative", 0.8, None, "某行服务差", "negative_social"),
        ("weibo", "personal", "positive", 0.05, None, "服务好", None),
        ("forum", "personal", "neutral", 0.6, None, "", "negative_social"),
    ],
)
def test_trigger_category(
    platform: str,
    tier: str,
    sentiment: str,
    neg: float,
    risk_type: str | None,
    text: str,
    expected: str | None,
) -> None:
    assert risk.trigger_category(platform, tier, sentiment, neg, risk_type, text) == expected


def test_lexicon_fallback_without_models() -> None:
    [neg, pos] = sentiment.predict(["投诉银行乱收费，骗子", "服务满意，点赞"], ["zh", "zh"], {})
    assert neg.label == "negative" and pos.label == "positive"
    assert abs(sum(neg.probs.values()) - 1) < 1e-9


def _shipped() -> Models:
    m = Models(
        registry.get_model("sentiment_zh"),
        registry.get_model("sentiment_en"),
        registry.get_model("subject"),
        registry.get_model("risk"),
    )
    if m.sentiment_zh is None or m.risk is None:
        pytest.skip("shipped models not trained (run `yuqing train …`)")
    return m


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("招商银行信用卡乱收费，多名客户集体投诉要求退还年费", "negative"),
        ("这家银行服务太差了，排队两小时没人管，垃圾", "negative"),
        ("客户经理很耐心，服务真好，点赞！", "positive"),
        ("The bank was fined for fraud and its shares plunged", "negative"),
        ("Shares surge after record profit beats estimates", "positive"),
        (
            "I was charged a late fee twice on my checking account and the bank refused to refund it "
            "after I called three times",
            "negative",
        ),
    ],
)
def test_shipped_sentiment_on_clear_cases(text: str, expected: str) -> None:
    m = _shipped()
    lang = "en" if text.isascii() else "zh"
    [r] = sentiment.predict([text], [lang], {"zh": m.sentiment_zh, "en": m.sentiment_en})
    assert r.label == expected
    assert 0.0 <= r.negative_prob <= 1.0 and abs(sum(r.probs.values()) - 1) < 1e-6


def test_core_batch_is_deterministic_and_complete() -> None:
    models = _shipped()
    targets = [compile_target(TargetSpec(1, "招商银行", ("招行", "CMB")))]
    items = [
        MentionInput(
            1, "招行信用卡乱收费", "多名客户投诉招商银行违规收取年费", "news", "financial_media", 1000, 50
        ),
        MentionInput(2, "", "招行招聘开始了", "weibo", "personal"),
        MentionInput(3, "", "CMB app crashed again, customers furious", "twitter", "personal", 10),
        MentionInput(4, "", "", "weibo", "personal"),  # empty text must not break the batch
    ]
    a = analyse_batch(items, targets, models)
    b = analyse_batch(items, targets, models)
    assert a == b
    assert [o.mention_id for o in a] == [1, 2, 3, 4]
    assert a[0].sentiment == "negative" and a[0].targets[0].negative
    assert a[0].risk_type == "收费争议" and a[0].trigger_category == "customer_complaint"
    assert a[2].lang == "en" and a[2].targets[0].target_id == 1
    assert a[3].lang == "other" and a[3].targets == ()
    assert set(a[0].model_versions) == {"sentiment_zh", "sentiment_en", "subject", "risk"}


def test_a_targets_exclusion_words_drop_its_names_from_the_entities_and_tokens() -> None:
    """A 招聘 advert is not about the bank by the monitoring scheme: no target, and neither an entity
    nor a word of the events stage (else the name alone links it to the bank's events)."""
    spec = TargetSpec(1, "华信银行", ("华信",), rule="(华信银行 OR 华信) NOT 招聘", exclude=("招聘",))
    items = [
        MentionInput(1, "", "华信银行2027届校园招聘正式启动，岗位包括客户经理", "jobs", "personal"),
        MentionInput(2, "", "华信银行信用卡分期手续费被投诉，招商银行也被点名", "weibo", "personal"),
    ]
    advert, complaint = analyse_batch(items, [compile_target(spec)], _shipped())
    assert advert.targets == () and "华信银行" not in {e["text"] for e in advert.entities}
    names = {"华信银行", "华信"}
    assert not names & set(advert.tokens) and "招聘" in advert.tokens
    assert complaint.targets[0].target_id == 1 and "华信银行" in {e["text"] for e in complaint.entities}
    assert names & set(complaint.tokens)


@pytest.mark.parametrize(("rows", "depth"), [(1, 2), (7, 3), (300, 6)])
def test_flattened_trees_predict_like_scikit_learn(rows: int, depth: int) -> None:
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    from yuqing.analysis import trees

    rng = np.random.default_rng(rows)
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(int)
    hgb = HistGradientBoostingClassifier(max_iter=30, max_depth=depth, early_stopping=False, random_state=0)
    hgb.fit(x, y)
    flat = trees.flatten(hgb)
    probe = rng.normal(size=(rows, 5)) * 2
    assert np.allclose(trees.predict_proba(flat, probe), hgb.predict_proba(probe)[:, 1], atol=1e-12)


def test_shipped_subject_model_ranks_the_main_subject_first() -> None:
    """The stacked subject model: the negative story is about the P2P platform, not the bank that
    only held its custody account."""
    model = registry.get_model("subject")
    assert model is not None and {"stacker", "text_coef"} <= set(model.extra)
    text = "小资钱包爆雷，投资人无法提现，平台实控人失联，资金存管银行为华信银行。"
    preds = {p.entity: p for p in subject.predict(model, text, ["小资钱包", "华信银行"])}
    assert preds["小资钱包"].negative and preds["小资钱包"].negative_prob > preds["华信银行"].negative_prob
    # The same pairs in a batch with another text give the same probabilities (groups kept apart).
    other = ("华信银行客户信息泄露，监管介入调查。", "", "华信银行", ["华信银行"])
    items = [(text, "", e, ["小资钱包", "华信银行"]) for e in ("小资钱包", "华信银行")]
    batched = subject.predict_pairs(model, [*items, other], starts=[0, 2])
    assert batched[:2] == pytest.approx([preds["小资钱包"].negative_prob, preds["华信银行"].negative_prob])


def test_shipped_models_have_cards_and_fit_the_budget() -> None:
    """Issue #3: every shipped model has a model card; all of them together stay under 50 MB."""
    from yuqing.events.vectors import shipped_path

    folders = [registry.shipped_dir(), shipped_path().parent]
    files = [p for d in folders for p in d.iterdir() if p.is_file() and p.suffix != ".md"]
    assert {p.name for p in files} >= {"sentiment_zh.joblib", "risk_zh.joblib", "token_vectors_en.npz"}
    for p in files:
        card = p.with_name(p.name.split(".")[0] + ".md")
        assert card.is_file(), f"no model card for {p.name}"
        assert "## Known limits" in card.read_text(encoding="utf-8")
    assert sum(p.stat().st_size for p in files) < 50 * 1024 * 1024
