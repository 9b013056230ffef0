"""Short follow-ups of a big story join it, not a small off-topic event of the same bank (issue #4).

The stream mimics the demo: a long fee-dispute thread about one watched bank, then the bank's own
promo post (an event of one mention), then short follow-ups that share only the bank, a key term or
two and chatter words with the thread, and job adverts that the target's rule did not match (no
target hit, but the bank's name as an entity). Without the size cap of the clusterer the follow-ups
went to the promo's event: a big cluster pays ~log(n_z / V*beta) per word it has not seen, more
than a one-mention event that shares nothing but the bank's name.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from yuqing.core.contracts import AnalysedMention, TargetHit
from yuqing.events.cluster import ClusterParams, Doc, OnlineClusterer
from yuqing.events.tokens import mention_tokens

T0 = datetime(2026, 11, 25, 2, tzinfo=UTC)


def _w(text: str) -> list[str]:
    return text.split(" ")


BANK = TargetHit(1, "华信银行", True, 0.8)

STORY = ["分期", "手续费", "信用卡", "利息", "投诉", "年化", "宣传", "账单", "退费", "客服", "误导"]
CHATTER = [f"词{i}" for i in range(400)]  # the varied words of a long social-media thread
PEOPLE = [f"网名{i}" for i in range(60)]  # the thread's entities (users, products, places)
# title + text, as the service tokenises them
PROMO = _w("华信银行 助力 企业 专项 贷款 投放 百亿元 华信银行 今年以来 累计 投放 企业 专项 贷款 百亿元")
PROMO += _w("支持 实体 经济 发展")
FOLLOW_UPS = [
    _w("华信银行 分期 手续费 事件 后续 参考 以往 案例 概率 整改 约谈 声誉"),
    _w("终于 等到 监管 表态 华信银行 这次 好好 整改"),
    _w("华信银行 监管 点名 退费 应该 有戏"),
    _w("华信银行 回应 及时 没提 退费 机构 调研 肯定"),
]
JOBS = _w("华信银行 秋季 校园 招聘 正式 启动 岗位 包括 金融 科技 客户经理 欢迎 投递")


def _mention(
    key: int, words: list[str], at: datetime, *, target: bool = True, entities: tuple[str, ...] = ()
) -> AnalysedMention:
    return AnalysedMention(
        mention_id=key,
        source_id=1,
        platform="weibo",
        source_tier="social",
        url=None,
        title="",
        text=" ".join(words),
        author=None,
        author_followers=0,
        published_at=at,
        lang="zh",
        duplicate_of_id=None,
        sentiment="neutral",
        negative_prob=0.2,
        targets=(BANK,) if target else (),
        entities=("华信银行", "华信", *entities),
        tokens=tuple(words),
    )


def _stream() -> tuple[list[Doc], dict[str, list[int]]]:
    rng = random.Random(7)
    mentions: list[AnalysedMention] = []
    kinds: dict[str, list[int]] = {"story": [], "promo": [], "follow": [], "jobs": []}

    def add(kind: str, words: list[str], *, target: bool = True, entities: tuple[str, ...] = ()) -> None:
        key = len(mentions) + 1
        at = T0 + timedelta(minutes=10 * key)
        mentions.append(_mention(key, words, at, target=target, entities=entities))
        kinds[kind].append(key)

    for _ in range(120):
        words = ["华信银行", *rng.sample(STORY, 4), *rng.sample(CHATTER, 8)]
        add("story", words, entities=tuple(rng.sample(PEOPLE, 2)))
    add("promo", PROMO)
    add("jobs", JOBS, target=False)
    for words in FOLLOW_UPS * 2:
        add("follow", words)
    add("promo", PROMO)
    add("jobs", JOBS, target=False)
    return [Doc(m.mention_id, mention_tokens(m), m.published_at) for m in mentions], kinds


def _clusters(params: ClusterParams) -> tuple[dict[int, int], dict[str, list[int]]]:
    docs, kinds = _stream()
    out = OnlineClusterer(params).run(docs, batch=25)
    return {d.key: cid for d, cid in zip(docs, out, strict=True)}, kinds


def test_follow_ups_join_the_story_promo_and_jobs_do_not() -> None:
    of, kinds = _clusters(ClusterParams())
    story = {of[k] for k in kinds["story"]}
    assert len(story) == 1
    (main,) = story
    assert all(of[k] == main for k in kinds["follow"])
    assert all(of[k] != main for k in kinds["promo"] + kinds["jobs"])
    assert len({of[k] for k in kinds["promo"]}) == 1  # the two promo copies stay together
    assert {of[k] for k in kinds["jobs"]}.isdisjoint(of[k] for k in kinds["follow"])


def test_without_the_size_cap_the_promo_collects_follow_ups() -> None:
    """The behaviour the cap fixes (a check that the stream above exercises it)."""
    of, kinds = _clusters(ClusterParams(size_cap=0.0))
    promo = of[kinds["promo"][0]]
    assert of[kinds["story"][0]] != promo
    assert any(of[k] == promo for k in kinds["follow"])


def test_capped_scores_agree_between_the_hot_path_and_the_reference() -> None:
    c = OnlineClusterer(ClusterParams(size_cap=5.0, min_docs=10))
    big, _ = c.assign(Doc(1, ["fee", "card", "@e:x", "~fee"] * 10))
    small, created = c.assign(Doc(2, ["cup", "final", "striker"]))
    assert created
    assert c._scale == {big: {"latin": 0.25, "struct": 0.5, "shared": 0.5}}
    counts = {"fee": 2, "card": 1, "cup": 1, "new": 1, "@e:x": 1, "~fee": 1}
    best, score, _new = c.best(counts)
    scored = c._scored(counts)
    doc_parts = c._doc_parts(scored)
    vbeta = c._vocab() * c.params.beta
    ref = {
        cid: c._score_one(c.active[cid], scored, set(), doc_parts, vbeta, c._doc_direction(scored))
        for cid in (big, small)
    }
    assert best == big and ref[big] is not None and ref[small] is not None
    assert ref[big] > ref[small]
    assert score == pytest.approx(ref[big])
    c.withdraw(big, {"fee": 9, "card": 9, "@e:x": 9, "~fee": 9}, 1)  # analyst split: under the cap again
    assert big not in c._scale
    c.close(big)
    assert c._scale == {}
