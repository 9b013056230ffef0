"""User-facing text: Simplified Chinese by default, English switchable (``?lang=en`` or the cookie)."""

from __future__ import annotations

from yuqing.core.contracts import STATUS_LABELS

LANGS = ("zh", "en")

CATALOGUE: dict[str, tuple[str, str]] = {
    "app.title": ("舆情监测与应急处置", "Public-opinion monitoring & response"),
    "nav.overview": ("总览", "Overview"),
    "nav.mentions": ("信息流", "Mentions"),
    "nav.events": ("事件", "Events"),
    "nav.alerts": ("预警", "Alerts"),
    "nav.incidents": ("应急事件", "Incidents"),
    "nav.resources": ("物资清单", "Resources"),
    "nav.reviews": ("总结评估", "Reviews"),
    "nav.logout": ("退出", "Log out"),
    "nav.lang": ("English", "中文"),
    "login.title": ("登录", "Log in"),
    "login.username": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.failed": ("用户名或密码错误", "Wrong user name or password"),
    "login.throttled": ("登录失败次数过多，请稍后再试", "Too many failed logins, try again later"),
    "overview.volume": ("信息量与负面占比（按监测主体）", "Mention volume and negative share per target"),
    "overview.events_by_level": ("事件等级分布", "Events by level"),
    "overview.open_alerts": ("未确认预警", "Open alerts"),
    "overview.open_incidents": ("处置中的应急事件", "Open incidents"),
    "overview.total_mentions": ("信息总量", "Mentions"),
    "overview.negative_share": ("负面占比", "Negative share"),
    "overview.sources": ("信息源", "Sources"),
    "overview.quarantine": ("隔离区待处理", "Quarantined"),
    "overview.none": ("暂无", "None"),
    "mentions.search": ("搜索", "Search"),
    "mentions.query": ("关键词（支持中文）", "Keywords (Chinese supported)"),
    "mentions.platform": ("平台", "Platform"),
    "mentions.target": ("监测主体", "Target"),
    "mentions.sentiment": ("情感", "Sentiment"),
    "mentions.since": ("起始时间", "From"),
    "mentions.until": ("截止时间", "Until"),
    "mentions.any": ("全部", "Any"),
    "mentions.more": ("下一页", "Next page"),
    "mentions.empty": ("没有符合条件的信息", "No mentions match"),
    "mentions.author": ("作者", "Author"),
    "mentions.published": ("发布时间", "Published"),
    "mentions.source": ("来源", "Source"),
    "sentiment.negative": ("负面", "Negative"),
    "sentiment.neutral": ("中性", "Neutral"),
    "sentiment.positive": ("正面", "Positive"),
    "error.title": ("出错了", "Something went wrong"),
    "error.back": ("返回总览", "Back to the overview"),
    "alerts.ack": ("确认预警", "Acknowledge alert"),
    "alerts.acked": ("已确认", "Acknowledged"),
    "alerts.invalid": ("链接无效或已过期", "The link is invalid or has expired"),
    "common.level": ("等级", "Level"),
    "common.status": ("状态", "Status"),
    "common.title": ("标题", "Title"),
    "common.time": ("时间", "Time"),
    "common.count": ("数量", "Count"),
    "common.user": ("当前用户", "Signed in as"),
    "common.submit": ("提交", "Submit"),
    "event.volume": ("每小时信息量", "Mentions per hour"),
    "event.levels": ("等级变化与理由", "Level history and reasons"),
    "event.platforms": ("平台", "Platforms"),
    "event.sources": ("主要来源", "Top sources"),
    "event.authors": ("关键作者", "Key authors"),
    "event.followers": ("粉丝", "Followers"),
    "event.samples": ("代表性信息", "Sample mentions"),
    "event.related": ("可能相关的事件", "Possibly related events"),
    "event.related_hint": (
        "用词相近，可能是同一事件；确认后可合并：yuqing events merge",
        "Worded alike, possibly the same story; merge after checking: yuqing events merge",
    ),
    "event.shared_words": ("共同词", "Shared words"),
    "incident.deadlines": ("处置时限", "Deadlines"),
    "incident.tasks": ("任务", "Tasks"),
    "incident.decisions": ("决策记录", "Decisions"),
    "incident.statements": ("官方声明", "Statements"),
    "incident.coordination": ("内部协调记录", "Coordination log"),
    "incident.timeline": ("时间线", "Timeline"),
    "incident.approve": ("批准", "Approve"),
    "incident.reject": ("驳回", "Reject"),
    "incident.publish": ("发布", "Publish"),
    "incident.channel": ("发布渠道", "Channel"),
    "incident.link": ("链接（可选）", "Link (optional)"),
    "incident.comment": ("意见", "Comment"),
    "incident.log": ("记录", "Log"),
    "incident.reason": ("理由", "Reason"),
    "incident.draft": ("起草声明（按模板）", "Draft a statement (from the template)"),
    "incident.message": ("内容", "Message"),
    "incident.opened": ("启动时间", "Opened"),
    "incident.left": ("剩余", "Left"),
    "incident.met": ("已完成", "Met"),
    "incident.assignee": ("负责人", "Assignee"),
    "incident.due": ("期限", "Due"),
    "incident.done": ("完成", "Done"),
    "resources.kind": ("类别", "Kind"),
    "resources.name": ("名称", "Name"),
    "resources.owner": ("负责人", "Owner"),
    "resources.expires": ("到期", "Expires"),
    "resources.tested": ("最近测试", "Last tested"),
    "resources.problems": ("问题", "Problems"),
    "reviews.went_well": ("做得好的", "What went well"),
    "reviews.went_badly": ("待改进", "What went badly"),
    "reviews.actions": ("改进措施", "Improvement actions"),
    "reviews.metrics": ("指标", "Metrics"),
}


def code_label(value: str | None, lang: str) -> str:
    """A stored code in the reader's language; unknown codes are shown as they are."""
    if not value:
        return ""
    from yuqing.incidents.timeline import KIND_LABELS

    pair = STATUS_LABELS.get(value) or KIND_LABELS.get(value)
    if pair is None:
        return value
    return pair[1] if lang == "en" else pair[0]


def normalise_lang(value: str | None, default: str = "zh") -> str:
    if value and value[:2].lower() in LANGS:
        return value[:2].lower()
    return default


def translate(key: str, lang: str) -> str:
    pair = CATALOGUE.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]
