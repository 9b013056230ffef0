"""Influence score 0-100 from source tier, author followers and engagement (documented formula).

    influence = tier_base(tier)                                  0..50
              + 25 * min(1, log10(1 + followers) / 7)             0..25 (10 million followers = 25)
              + 25 * min(1, log10(1 + engagement) / 5)            0..25 (100 000 weighted interactions = 25)

    engagement = 3*reposts + 2*comments + likes + views/100 + 3*duplicates

Reposts weigh most (they carry the text to new audiences), comments next (discussion), likes
and views least. Duplicates (copies of the same story elsewhere) count as reposts.
"""

from __future__ import annotations

import math

TIER_BASE = {
    "central_media": 50.0,  # 中央媒体
    "regulator": 50.0,  # 监管机构
    "financial_media": 40.0,  # 财经媒体
    "local_media": 30.0,  # 地方媒体
    "self_media": 20.0,  # 自媒体
    "personal": 10.0,  # 个人账号
}
DEFAULT_TIER_BASE = 10.0


def engagement(
    reposts: int = 0, comments: int = 0, likes: int = 0, views: int = 0, duplicates: int = 0
) -> float:
    return (
        3.0 * max(reposts, 0)
        + 2.0 * max(comments, 0)
        + max(likes, 0)
        + max(views, 0) / 100
        + 3.0 * max(duplicates, 0)
    )


def influence_score(
    tier: str,
    followers: int = 0,
    reposts: int = 0,
    comments: int = 0,
    likes: int = 0,
    views: int = 0,
    duplicates: int = 0,
) -> float:
    """The 0-100 influence of one mention, rounded to one decimal."""
    base = TIER_BASE.get(tier, DEFAULT_TIER_BASE)
    f = 25.0 * min(1.0, math.log10(1 + max(followers, 0)) / 7)
    e = 25.0 * min(1.0, math.log10(1 + engagement(reposts, comments, likes, views, duplicates)) / 5)
    return round(min(100.0, base + f + e), 1)
