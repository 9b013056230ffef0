"""Risk classification: a financial risk type with a confidence, and the plan's trigger category.

1. Classifier over the 22 CCKS 2019 event types (trained on ccks2019_fin_event): the shared char
   n-gram vector plus hashed word 1-2-grams (:func:`design`).
2. A rule layer for the banking types CCKS lacks. There is no labelled data for them here, so
   they are weighted keyword patterns: a type's score is the sum of the weights of its patterns
   that occur; a score >= RULE_THRESHOLD overrides the classifier (confidence = min(0.95,
   0.5 + score/10)); the strongest rule type wins.
3. Trigger category (the plan's five risk sources) from platform, tier, sentiment and risk type
   (see :func:`trigger_category`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import scipy.sparse as sp

from yuqing.analysis import features, segment
from yuqing.analysis.linear import LinearModel

CCKS_TYPES = (
    "其他",
    "信批违规",
    "实控人股东变更",
    "交易违规",
    "涉嫌非法集资",
    "财务造假",
    "不能履职",
    "重组失败",
    "评级调整",
    "业绩下滑",
    "涉嫌违法",
    "投诉维权",
    "产品违规",
    "提现困难",
    "失联跑路",
    "歇业停业",
    "涉嫌传销",
    "涉嫌欺诈",
    "资金账户风险",
    "高管负面",
    "资产负面",
    "公司股市异常",
)
BANKING_TYPES = {
    "系统故障": "system outage",
    "数据泄露": "data leak",
    "收费争议": "fee dispute",
    "误导销售": "mis-selling",
    "暴力催收": "violent debt collection",
    "挤兑/流动性谣言": "run / liquidity rumour",
    "监管处罚": "regulatory penalty",
    "员工违规": "employee misconduct",
}
RISK_TYPES = (*CCKS_TYPES, *BANKING_TYPES)
NO_RISK = "其他"
RULE_THRESHOLD = 3.0

# (pattern, weight): weight 3 = decisive on its own, 2 = strong, 1 = supporting.
RULES: dict[str, tuple[tuple[str, float], ...]] = {
    "系统故障": (
        (r"系统(故障|崩溃|瘫痪|异常|宕机)", 3),
        (r"宕机|崩了|闪退", 3),
        (r"(无法|不能)(登录|登陆|转账|支付|取款|交易)", 2),
        (r"(APP|app|App|手机银行|网银|网上银行)", 1),
        (r"(转账|支付)失败", 2),
        (r"system (outage|failure)|outage", 3),
    ),
    "数据泄露": (
        (r"(数据|信息|资料)(被)?(泄露|泄漏|外泄)", 3),
        (r"(客户|个人|用户)信息.{0,6}(泄露|出售|贩卖|倒卖)", 3),
        (r"贩卖|倒卖", 1),
        (r"data (breach|leak)", 3),
    ),
    "收费争议": (
        (r"乱收费|违规收费|强制收费|收费不透明", 3),
        (r"(年费|手续费|管理费|服务费|账户管理费|小额管理费)", 2),
        (r"扣费|扣款|收费", 1),
        (r"(投诉|质疑|不合理|莫名|被扣)", 1),
        (r"hidden fees?|overdraft fees?", 3),
    ),
    "误导销售": (
        (r"误导销售|销售误导|飞单", 3),
        (r"(承诺|宣称|说好的).{0,6}(保本|高收益|稳赚|无风险)", 3),
        (r"(理财|保险|基金).{0,10}(变成|竟是|原来是).{0,6}(保险|基金|产品)", 2),
        (r"存款变保险|存单变保单", 3),
        (r"(保本|稳赚|无风险)", 1),
        (r"mis-?sell", 3),
    ),
    "暴力催收": (
        (r"暴力催收|恐吓|威胁.{0,4}(家人|亲友)|爆通讯录|骚扰.{0,4}(家人|亲友|同事|通讯录)", 3),
        (r"催收", 2),
        (r"(骚扰|辱骂|恐吓)", 1),
        (r"harass", 2),
    ),
    "挤兑/流动性谣言": (
        (r"挤兑", 3),
        (r"(银行|网点).{0,8}(排队|排长队).{0,8}(取钱|取款|提款)", 3),
        (r"(要|将|快)?(倒闭|破产)", 2),
        (r"流动性(危机|风险|紧张)", 2),
        (r"谣言|传言|网传", 1),
        (r"取不出(钱|来)", 2),
        (r"bank run", 3),
    ),
    "监管处罚": (
        (r"(罚单|被罚|罚款|处罚|没收违法所得)", 2),
        (r"(银保监|金融监管总局|人民银行|央行|证监会|监管局|银保监局|外汇局)", 1),
        (r"行政处罚", 3),
        (r"(罚没|合计罚)", 2),
        (r"(fined|penalt(y|ies)) by", 3),
    ),
    "员工违规": (
        (
            r"(员工|职员|柜员|客户经理|理财经理|支行行长|行长|工作人员).{0,10}(挪用|侵占|盗取|诈骗|违规|受贿|私售|飞单|偷)",
            3,
        ),
        (r"(挪用|侵占).{0,6}(客户|资金|存款)", 3),
        (r"内鬼|监守自盗", 3),
        (r"employee misconduct", 3),
    ),
}
_COMPILED = {k: tuple((re.compile(p), w) for p, w in v) for k, v in RULES.items()}
# Plain substrings, one of which every pattern of weight >= 2 of the type contains: a cheap
# pre-filter so the regular expressions only run on texts that can reach the threshold (weight-1
# patterns alone cannot: each type has at most two of them).
ANCHORS: dict[str, tuple[str, ...]] = {
    "系统故障": ("系统", "宕机", "崩了", "闪退", "无法", "不能", "失败", "outage"),
    "数据泄露": ("泄露", "泄漏", "外泄", "出售", "贩卖", "倒卖", "data"),
    "收费争议": ("收费", "费", "fee"),
    "误导销售": (
        "误导",
        "飞单",
        "承诺",
        "宣称",
        "说好",
        "变成",
        "竟是",
        "原来是",
        "存款变",
        "存单变",
        "sell",
    ),
    "暴力催收": ("催收", "恐吓", "威胁", "通讯录", "骚扰", "harass"),
    "挤兑/流动性谣言": ("挤兑", "排队", "倒闭", "破产", "流动性", "取不出", "bank run"),
    "监管处罚": ("罚", "没收", "fined", "penalt"),
    "员工违规": (
        "员工",
        "职员",
        "柜员",
        "经理",
        "行长",
        "工作人员",
        "挪用",
        "侵占",
        "内鬼",
        "监守自盗",
        "misconduct",
    ),
}


_ANCHOR_RE = {k: re.compile("|".join(map(re.escape, v))) for k, v in ANCHORS.items()}


@dataclass(frozen=True)
class RiskResult:
    risk_type: str  # Chinese name, NO_RISK ("其他") when nothing specific
    confidence: float
    via: str  # model | rule | lexicon


def rule_scores(text: str) -> dict[str, float]:
    """Score of each banking type whose patterns occur (only types with a score > 0)."""
    out = {}
    for name, pats in _COMPILED.items():
        if not _ANCHOR_RE[name].search(text):
            continue
        s = sum(w for p, w in pats if p.search(text))
        if s > 0:
            out[name] = s
    return out


def apply_rules(text: str, model_type: str, model_conf: float) -> RiskResult:
    """The rule layer: a banking type replaces the classifier's answer when the classifier found
    nothing specific (其他), or when the rule evidence is strong (score >= 5) and the classifier
    unsure (confidence < 0.5). Otherwise the CCKS type stands."""
    scores = rule_scores(text)
    if scores:
        best = max(scores, key=lambda k: (scores[k], -list(RULES).index(k)))
        s = scores[best]
        if s >= RULE_THRESHOLD and (model_type == NO_RISK or (s >= 5 and model_conf < 0.5)):
            return RiskResult(best, round(min(0.95, 0.5 + s / 10), 3), "rule")
    return RiskResult(model_type, round(model_conf, 3), "model")


def design(
    x: sp.spmatrix, texts: Sequence[str], tokens: Sequence[Sequence[str]] | None = None
) -> sp.csr_matrix:
    """The classifier's input: the shared char vector ``x`` plus hashed word 1-2-grams of the
    texts' tokens (segmented here when the caller has none)."""
    if tokens is None:
        tokens = [segment.default_segmenter().mention_tokens(t) for t in texts]
    return sp.hstack([x, features.word_vectors(tokens)], format="csr")


def predict_matrix(
    model: LinearModel | None,
    texts: Sequence[str],
    x: sp.spmatrix | None,
    tokens: Sequence[Sequence[str]] | None = None,
) -> list[RiskResult]:
    """``x``: the texts' char vector; the word columns are added when the model has them (a model
    trained before them still works)."""
    if model is None or x is None:
        return [apply_rules(t, NO_RISK, 0.5) for t in texts]
    if model.coef.shape[1] == x.shape[1] + features.WORD_FEATURES:
        x = design(x, texts, tokens)
    proba = model.predict_proba(x)
    best = proba.argmax(axis=1)
    return [
        apply_rules(t, model.classes[int(b)], float(proba[i, int(b)]))
        for i, (t, b) in enumerate(zip(texts, best, strict=True))
    ]


# --- trigger categories ---------------------------------------------------------------------------

COMPLAINT_PLATFORMS = ("complaint", "heimao", "tousu", "12378", "12315", "hotline", "cfpb")
MEDIA_TIERS = ("central_media", "financial_media", "local_media")
COMPLAINT_TYPES = ("投诉维权", "收费争议", "误导销售", "暴力催收", "提现困难", "产品违规", "系统故障")
INTERNAL_TYPES = ("高管负面", "员工违规", "不能履职", "财务造假", "信批违规", "数据泄露", "实控人股东变更")
POLICY_TYPES = ("监管处罚", "评级调整")
_POLICY_WORDS = re.compile(
    r"新规|政策|监管(要求|新|部门)|征求意见稿|央行.{0,4}(降准|加息|降息)|LPR|利率调整|办法|通知"
)


def trigger_category(
    platform: str, tier: str, sentiment: str, negative_prob: float, risk_type: str | None, text: str = ""
) -> str | None:
    """The plan's risk source, or None when the mention is not a risk signal.

    Order: complaint channel or complaint-type risk -> customer_complaint; internal-management risk
    types -> internal_management; regulator source, policy/penalty types or policy wording with a
    negative tone -> policy_reaction; otherwise a negative mention -> negative_media (media tiers
    and news platforms) or negative_social (everything else).
    """
    plat = (platform or "").lower()
    negative = sentiment == "negative" or negative_prob >= 0.5
    rt = risk_type if risk_type and risk_type != NO_RISK else None
    if any(p in plat for p in COMPLAINT_PLATFORMS) or (rt in COMPLAINT_TYPES and negative):
        return "customer_complaint"
    if rt in INTERNAL_TYPES:
        return "internal_management"
    if tier == "regulator" or rt in POLICY_TYPES or (negative and _POLICY_WORDS.search(text)):
        return "policy_reaction"
    if not negative and rt is None:
        return None
    if tier in MEDIA_TIERS or plat in ("news", "media", "newspaper", "tv"):
        return "negative_media"
    return "negative_social"


def top_types(results: Sequence[RiskResult]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for r in results:
        if r.risk_type != NO_RISK:
            counts[r.risk_type] = counts.get(r.risk_type, 0) + 1
    return sorted(counts.items(), key=lambda kv: -kv[1])


__all__ = ["BANKING_TYPES", "CCKS_TYPES", "RISK_TYPES", "RiskResult", "predict_matrix", "trigger_category"]
