"""Plain data passed between stages. A stage reads another's results only through these.

They are the stable seams of the flow: ``analysis`` produces :class:`AnalysedMention`
(``yuqing.analysis.service.load_analysed``), ``events`` produces :class:`EventSnapshot`
(``yuqing.events.service.load_snapshot``), and everything downstream reads those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

LEVELS = ("I", "II", "III", "IV")  # I 特别重大 (red) … IV 一般 (blue)
LEVEL_NAMES_ZH = {"I": "特别重大", "II": "重大", "III": "较大", "IV": "一般"}
LEVEL_COLOURS = {"I": "red", "II": "orange", "III": "yellow", "IV": "blue"}
SENTIMENTS = ("negative", "neutral", "positive")
TRIGGER_CATEGORIES = (  # the plan's five risk sources
    "customer_complaint",
    "negative_media",
    "negative_social",
    "policy_reaction",
    "internal_management",
)


# Stored codes shown to people: statuses (incidents, tasks, statements, alerts, events, reviews),
# statement kinds and the plan's risk categories.
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "reported": ("已报告", "Reported"),
    "assessing": ("研判中", "Assessing"),
    "responding": ("处置中", "Responding"),
    "recovering": ("恢复中", "Recovering"),
    "closed": ("已关闭", "Closed"),
    "reviewed": ("已总结", "Reviewed"),
    "cancelled": ("已取消", "Cancelled"),
    "open": ("待处理", "Open"),
    "in_progress": ("进行中", "In progress"),
    "done": ("已完成", "Done"),
    "fulfilled": ("已满足", "Fulfilled"),
    "rejected": ("已驳回", "Rejected"),
    "draft": ("草稿", "Draft"),
    "final": ("定稿", "Final"),
    "in_review": ("审批中", "In review"),
    "approved": ("已批准", "Approved"),
    "published": ("已发布", "Published"),
    "withdrawn": ("已撤回", "Withdrawn"),
    "acked": ("已确认", "Acknowledged"),
    "resolved": ("已解除", "Resolved"),
    "active": ("活跃", "Active"),
    "dormant": ("平息", "Dormant"),
    "archived": ("已归档", "Archived"),
    "merged": ("已合并", "Merged"),
    "holding": ("简要声明", "Holding statement"),
    "full": ("完整声明", "Full statement"),
    "clarification": ("澄清说明", "Clarification"),
    "regulator_report": ("监管报告", "Regulator report"),
    # the plan's five risk sources (incident and mention categories)
    "customer_complaint": ("客户投诉/纠纷", "Customer complaint"),
    "negative_media": ("负面媒体报道", "Negative media report"),
    "negative_social": ("社交媒体负面", "Negative social media"),
    "policy_reaction": ("政策/监管反应", "Policy reaction"),
    "internal_management": ("内部管理问题", "Internal management"),
}


def level_rank(level: str) -> int:
    """I -> 4 … IV -> 1, so that ``max`` picks the most severe."""
    return 4 - LEVELS.index(level)


@dataclass(frozen=True)
class TargetHit:
    target_id: int
    name: str
    negative: bool  # is the negativity about *this* target (BDCI subject task)
    negative_prob: float


@dataclass(frozen=True)
class AnalysedMention:
    mention_id: int
    source_id: int
    platform: str
    source_tier: str
    url: str | None
    title: str
    text: str
    author: str | None
    author_followers: int
    published_at: datetime
    lang: str  # zh | en | other
    duplicate_of_id: int | None
    sentiment: str  # negative | neutral | positive
    negative_prob: float
    targets: tuple[TargetHit, ...] = ()
    entities: tuple[str, ...] = ()
    trigger_category: str | None = None
    risk_type: str | None = None  # Chinese name (CCKS names or the banking additions)
    risk_confidence: float = 0.0
    influence: float = 0.0  # 0-100
    keywords: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventSnapshot:
    event_id: int
    title: str
    level: str | None  # None until graded
    level_reasons: tuple[str, ...]
    status: str  # active | dormant | archived | merged
    first_seen: datetime
    last_seen: datetime
    mention_count: int
    negative_count: int
    negative_share: float
    reach: float
    velocity: float  # mentions per hour in the current window
    platforms: tuple[str, ...]
    target_ids: tuple[int, ...]
    risk_type: str | None
    keywords: tuple[str, ...] = ()
    top_mention_ids: tuple[int, ...] = field(default_factory=tuple)
