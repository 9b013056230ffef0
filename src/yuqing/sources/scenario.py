# ruff: noqa: E501  (scenario text is data)
"""The bundled demo scenario: a fee dispute at the fictional 华信银行 (Huaxin Bank, HXB).

One customer complaint on 黑猫投诉 about an undisclosed credit-card instalment fee ("0利息"
instalments that cost 0.75 % a month) and a silently deducted 小额账户管理费 spreads over about
four days: more complaints, Weibo posts, a finance big V's post with a flood of (near-duplicate)
reposts, forum threads on 雪球 / 百度贴吧 / 知乎, the bank's statement, financial and local
media, a central-media commentary, English wire coverage and tweets, and finally the local
regulator. Around it: unrelated noise — other banks' news, Huaxin's own marketing, job adverts
("华信银行招聘", which the watch rule excludes), and a few deliberately malformed vendor
payloads so the quarantine has something to show.

Everything is fictional and deterministic (seeded); times are laid out relative to ``now`` so
the story ends just before it. Items are in the webhook connector's item format.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.core.clock import ensure_utc

SHANGHAI = ZoneInfo("Asia/Shanghai")
BANK = "华信银行"

# name, platform, tier, description
SOURCES: list[tuple[str, str, str, str]] = [
    ("黑猫投诉", "complaint", "personal", "消费者投诉平台 / consumer complaint platform"),
    ("新浪微博", "weibo", "personal", "微博个人用户 / Weibo users"),
    ("微博大V", "weibo", "self_media", "微博认证博主 / verified Weibo influencers"),
    ("微信公众号", "wechat", "self_media", "公众号文章 / WeChat official-account articles"),
    ("雪球", "xueqiu", "personal", "投资者社区 / investor forum"),
    ("百度贴吧", "tieba", "personal", "贴吧 / Baidu Tieba"),
    ("知乎", "zhihu", "personal", "问答社区 / Q&A"),
    ("证券时讯", "news", "financial_media", "财经媒体 / financial media"),
    ("财经日参", "news", "financial_media", "财经媒体 / financial media"),
    ("新浪财经", "news", "financial_media", "财经门户 / finance portal"),
    ("滨海都市报", "news", "local_media", "地方媒体 / local media"),
    ("中经观察网", "news", "central_media", "中央媒体 / central media"),
    ("Asia Finance Wire", "news", "financial_media", "English wire service"),
    ("X (Twitter)", "twitter", "personal", "English social media"),
    ("滨海监管局", "regulator", "regulator", "国家金融监督管理总局滨海监管局 / local financial regulator"),
    ("招聘网站", "jobs", "personal", "招聘信息 / job boards"),
]

TARGETS: list[dict[str, Any]] = [
    {
        "name": BANK,
        "kind": "organisation",
        "aliases": ["华信", "HXB", "Huaxin Bank", "华信银行股份有限公司", "@华信银行"],
        "executives": ["周明远", "林嘉禾", "许文澜"],
        "products": ["安心账户", "华信信用卡", "悦享分期", "华信手机银行"],
        "rule": '(华信银行 OR 华信 OR "Huaxin Bank" OR HXB) NOT 招聘',
        "exclude": ["招聘"],
        "is_own": True,
    },
    {
        "name": "东岳银行",
        "kind": "organisation",
        "aliases": ["东岳", "Dongyue Bank", "DYB"],
        "executives": ["韩立群"],
        "products": ["东岳白金卡", "岳享贷"],
        "rule": '(东岳银行 OR "Dongyue Bank") NOT 招聘',
        "exclude": ["招聘"],
        "is_own": False,
    },
]


@dataclass
class ScenarioItem:
    at: datetime  # UTC; when the item appears (published)
    source: str
    item: dict[str, Any]
    kind: str = "story"  # story | repost | noise | malformed


@dataclass
class Scenario:
    now: datetime
    start: datetime
    items: list[ScenarioItem] = field(default_factory=list)
    # Raw bodies pushed as they are (malformed on purpose): (at, source, body)
    bad_payloads: list[tuple[datetime, str, bytes]] = field(default_factory=list)


# --- text material -------------------------------------------------------------------------------

COMPLAINT = (
    "【华信银行信用卡分期未告知收取手续费，储蓄卡每月被扣小额账户管理费】本人于今年8月在华信手机银行办理"
    "信用卡账单分期12期，办理页面首屏只写着“0利息”，没有任何手续费提示。近期核对账单发现每期被收取0.75%的"
    "分期手续费，12期合计1080元，折算年化费率接近17%。同时名下的华信“安心账户”储蓄卡每月被扣10元“小额账户"
    "管理费”，开户时从未告知，也没有收到任何短信通知。多次致电客服，客服只说“系统规定”，拒绝退还。"
    "诉求：退还全部分期手续费和管理费，并公开说明。"
)
COMPLAINT_VARIANTS = [
    "华信银行信用卡分期宣传“0利息”，实际每月收0.75%手续费，办理时完全没有提示，要求退还手续费{fee}元。",
    "华信银行安心账户每月偷偷扣小额账户管理费10元，已经扣了{months}个月，开户时柜员没有说明，要求全额退还。",
    "投诉华信银行：信用卡分期手续费不透明，客服推诿，说页面第二屏有提示，可是首屏写的是0利息，这是误导消费者。",
    "华信银行未经同意把我的账单自动分期，产生手续费{fee}元，打客服电话排队四十分钟没人处理，请求平台介入。",
    "本人是华信银行代发工资客户，按规定应免收小额账户管理费，却被连续扣费{months}个月，申请退还并道歉。",
]
WEIBO_POSTS = [
    "刚发现华信银行信用卡分期每期收0.75%手续费，说好的0利息呢？#华信银行分期手续费#",
    "查了一下华信的储蓄卡，每个月被扣10块“小额账户管理费”，扣了一年多我都不知道，气死",
    "华信银行这个分期“0利息”的宣传太有误导性了，年化算下来快17%，比消费贷还贵",
    "有没有人也被华信银行扣了小额账户管理费？现在不是很多银行都免了吗",
    "给华信客服打了三次电话，每次都说系统规定，问是哪条规定又说不上来",
    "华信手机银行分期页面首屏写0利息，手续费藏在第二屏小字里，这操作懂的都懂",
    "看到黑猫上有人投诉华信银行分期手续费，我去年也被收过，当时以为是正常的",
    "华信银行的“安心账户”一点都不安心，默默扣钱，准备销户了",
    "朋友在华信银行办的分期，也是没人告诉她有手续费，银行是不是该给个说法",
    "#华信银行分期手续费# 建议大家都查一下自己的账单，别被收了冤枉钱",
    "华信银行信用卡中心的电话根本打不进去，排队半小时，投诉都没地方投诉",
    "分期手续费按本金每期收，提前还款也不退，华信这个规则谁定的",
]
WEIBO_OPENERS = [
    "",
    "无语了，",
    "吐槽一下：",
    "刚看到新闻才反应过来，",
    "说个亲身经历，",
    "家人们谁懂啊，",
    "求助！",
    "打工人的血汗钱啊，",
    "今天去柜台问了，",
    "气到睡不着，",
]
WEIBO_CLOSERS = [
    "",
    "",
    "😡",
    "[怒]",
    "🙄",
    "！！",
    "，准备去12378投诉",
    "，有一起维权的吗",
    "，这钱必须要回来",
    "，已截图留证",
    "，银行就是这么对待老客户的？",
]
COMPLAINT_PERSONAS = [
    "本人在滨海工作多年，",
    "我是退休教师，",
    "本人是个体工商户，",
    "我和爱人都是华信的老客户，",
    "我是在校研究生，",
    "",
]
COMPLAINT_DETAILS = [
    "已保留APP办理页面截图。",
    "客服工单号至今没有回复。",
    "网点经理说要等总行通知。",
    "短信通知里只写了分期成功，没有费用。",
    "要求提供收费依据，对方拒绝。",
    "已向12378热线反映。",
    "对账单上的费用名称写的是“分期服务费”。",
    "申请提前还款后手续费也不退。",
]
BIGV = (
    "#华信银行分期手续费# 宣传“0利息”，实际每期收0.75%手续费，折算年化接近17%；储蓄卡还悄悄扣小额账户管理费。"
    "有网友在黑猫投诉维权，客服一句“系统规定”就打发了。银行的中间业务收入就是这么来的？@华信银行 出来说说？"
)
BIGV2 = (
    "华信银行的“情况说明”我看了：手续费“已在页面第二屏及协议中提示”。问题是首屏大字写着0利息，"
    "谁会去翻第二屏和几十页的协议？说明没有道歉，也没说退不退。#华信银行回应分期手续费#"
)
REPOST_COMMENTS = [
    "转发微博",
    "太离谱了",
    "我也被收过！",
    "查了下账单，真的有",
    "银行也这么玩？",
    "收藏了，回头查查",
    "已销户",
    "支持维权",
    "0利息=年化17%，学到了",
    "坐等华信回应",
    "@华信银行 出来解释一下",
    "这就是所谓的中间业务收入",
    "监管管管吧",
    "难怪客服电话打不通",
    "转发给家里人看看",
]
OFFICIAL = (
    "【关于客户反映信用卡分期手续费及小额账户管理费问题的情况说明】近日，有客户在网络平台反映我行信用卡分期"
    "手续费未充分告知等问题。经核查，分期手续费率已在办理页面及《华信信用卡分期业务协议》中列示，但首屏展示"
    "方式确有不够醒目之处。我行已立即优化页面提示，并将对有异议的客户逐一联系、妥善处理。代发工资等客户的"
    "小额账户管理费将按规定免收，已扣收的将予以退还。感谢社会各界监督。华信银行"
)
OFFICIAL_REACTIONS = [
    "华信银行的说明只承认“不够醒目”，那多收的手续费退不退？",
    "华信终于回应了，小额账户管理费说会退，分期手续费呢？",
    "说明写得很官方，关键问题一个没回答 #华信银行回应分期手续费#",
    "华信银行说会逐一联系客户，我等着看",
    "态度还算可以，至少承认页面有问题了，希望真能退钱",
]
XUEQIU = [
    "$华信银行$ 中间业务收入靠分期手续费撑着？三季报手续费及佣金净收入同比+12%，这次舆情要是发酵，信用卡业务可能要被整改。",
    "$华信银行$ 今天跌了2.3%，分期手续费的事已经上热搜了，短期估计还要承压。",
    "华信银行这次的分期费率披露问题，和几年前几家股份行被罚的情况很像，关注监管后续动作。$华信银行$",
    "算了一下，华信信用卡分期余额大约占贷款的4%，就算全部退费对利润影响也有限，主要是声誉风险。$华信银行$",
    "华信银行的回应还算及时，但没提退费，机构调研时肯定会被问。$华信银行$",
]
TIEBA = [
    "【求助】华信银行扣了小额账户管理费怎么要回来？打客服没用",
    "华信银行吧有没有被收分期手续费的，来这里登记一下，一起投诉",
    "我在华信柜台问了，柜员说代发工资卡可以申请免管理费，之前扣的可以退",
    "华信的分期到底是不是0利息？我看合同里写的是手续费不是利息，文字游戏",
    "分享一下：拨打12378银行保险消费者投诉热线投诉华信银行的经过",
]
ZHIHU = [
    (
        "如何看待华信银行信用卡“0利息”分期被指实际年化费率近17%？",
        "分期手续费按初始本金每期收取，而本金逐月减少，所以实际年化（IRR）约为名义费率的1.8倍。0.75%×12≈9%，"
        "IRR约16.5%。宣传“0利息”在字面上没错，因为收的是手续费不是利息，但这正是监管一直要求整改的误导性表述。",
    ),
    (
        "银行收取小额账户管理费合规吗？华信银行的做法有问题吗？",
        "按照2014年以来的规定，银行应对代发工资账户、低保账户等免收小额账户管理费，并且客户可以指定一个账户免收。"
        "如果华信银行没有告知、也没有给客户选择免收账户，就有问题。",
    ),
    (
        "华信银行分期手续费事件会有什么后续？",
        "参考以往案例，大概率是银行道歉整改、退还部分费用，监管约谈或通报。对银行来说最大的损失是声誉和信用卡新客获取。",
    ),
]
MEDIA = [
    (
        "证券时讯",
        "华信银行信用卡分期“0利息”宣传遭质疑 实际年化费率或超16%",
        "近日，有消费者在黑猫投诉平台反映，华信银行信用卡分期业务在办理页面宣传“0利息”，却每期收取0.75%的分期手续费，"
        "且未在显著位置提示。记者梳理发现，相关投诉已超过20条。业内人士指出，按照监管要求，银行应以明示的年化利率"
        "展示分期业务的资金使用成本。华信银行相关负责人表示，正在核查并优化页面提示。",
        "zqsx.example.cn/bank/2026/hx-fenqi.html",
    ),
    (
        "财经日参",
        "小额账户管理费为何“悄悄”扣？多家银行已免收，华信银行仍在收",
        "小额账户管理费再次引发关注。华信银行多名储户反映，其“安心账户”每月被扣收10元小额账户管理费，开户时未获告知。"
        "目前多家国有大行和股份行已全面取消该项收费。华信银行在情况说明中表示，代发工资等客户将按规定免收并退还。",
        "cjrc.example.cn/finance/20261127/001.html",
    ),
    (
        "滨海都市报",
        "市民投诉华信银行乱收费 银行回应将优化提示并逐一联系客户",
        "本报讯 市民陈女士近日向本报反映，她在华信银行办理的信用卡分期被收取了1000多元手续费，办理时并不知情。"
        "记者联系华信银行滨海分行，对方表示总行已发布情况说明，将对有异议的客户逐一联系处理。",
        "bhdsb.example.cn/news/local/2026-11-27/hx.html",
    ),
    (
        "新浪财经",
        "华信银行回应分期手续费争议：首屏展示确有不够醒目之处",
        "针对网络上关于信用卡分期手续费未充分告知的质疑，华信银行发布情况说明称，分期手续费率已在办理页面及协议中列示，"
        "但首屏展示方式确有不够醒目之处，已立即优化，并将退还代发工资客户被扣收的小额账户管理费。",
        "finance.sina.example.cn/money/bank/2026-11-27/doc-hx.shtml",
    ),
]
CENTRAL = (
    "中经观察网",
    "银行分期“0利息”宣传不能再含糊其辞",
    "近日，华信银行信用卡分期“0利息”宣传引发争议。分期业务收取手续费本身并无不可，但以“0利息”吸引客户、"
    "把费率藏在第二屏，损害的是消费者的知情权。金融机构应当以清晰、醒目的方式披露年化综合成本，"
    "把消费者权益保护真正落到实处。监管部门也应加强对信用卡分期营销宣传的规范。",
    "zjgc.example.cn/opinion/20261128/bank-fenqi.html",
)
REGULATOR = [
    (
        "滨海监管局：关于信用卡分期业务收费的消费者风险提示",
        "近期，我局关注到有消费者反映辖内华信银行信用卡分期业务手续费告知不充分等问题。我局已要求华信银行立即核查，"
        "对营销宣传和费率披露问题进行整改，妥善处理消费者诉求。提醒广大消费者办理分期业务时关注年化综合成本。",
    ),
]
ENGLISH_WIRE = [
    (
        "Huaxin Bank under fire over undisclosed credit-card instalment fees",
        "SHANGHAI (Asia Finance Wire) - China's Huaxin Bank (HXB) is facing a backlash on social media after customers "
        "complained that instalment plans advertised as 'zero interest' carried a monthly fee of 0.75%, equivalent to "
        "an annualised rate of almost 17%. The bank said on Friday it would make the fee more prominent and contact "
        "customers who disputed the charges. Shares of Huaxin fell 2.3% on Thursday.",
    ),
    (
        "Chinese regulator orders Huaxin Bank to fix fee disclosure",
        "The local office of China's National Financial Regulatory Administration said it had asked Huaxin Bank to "
        "rectify its marketing of credit-card instalments and to handle consumer complaints properly, after a fee "
        "dispute spread from a single online complaint to national media within four days.",
    ),
]
TWEETS = [
    "Huaxin Bank's '0% interest' card instalments actually cost ~17% a year, Chinese netizens say. Classic. $HXB",
    "Another Chinese lender caught hiding fees: Huaxin Bank (HXB) instalment plans + monthly small-account fees.",
    "The Huaxin Bank fee story went from one complaint to Weibo trending to national media in 3 days. PR lesson.",
    "Huaxin Bank statement admits the fee display was 'not prominent enough'. No apology, no refund on instalments.",
    "Regulator now involved in the Huaxin Bank instalment fee dispute. Expect a fine. $HXB",
    "Reading the Huaxin Bank thread: 0.75%/month on original principal = ~16.5% IRR. Not 'zero interest'.",
]
NOISE_NEWS = [
    (
        "新浪财经",
        "东岳银行发布三季报：净利润同比增长6.1%",
        "东岳银行前三季度实现营业收入412亿元，同比增长3.2%；净利润同比增长6.1%，不良贷款率1.21%。",
    ),
    (
        "新浪财经",
        "多家银行下调大额存单利率 三年期跌破2%",
        "近期多家银行下调大额存单利率，部分股份行三年期大额存单利率已降至1.95%。",
    ),
    (
        "新浪财经",
        "央行开展4000亿元MLF操作 利率维持不变",
        "中国人民银行今日开展4000亿元中期借贷便利操作，中标利率与上期持平。",
    ),
    ("证券时讯", "银行板块午后走强 东岳银行涨超2%", "银行板块午后集体走强，东岳银行、滨海农商行涨幅居前。"),
    (
        "财经日参",
        "东岳银行推出“岳享贷”新客利率优惠",
        "东岳银行宣布“岳享贷”新客首年利率下调至3.2%，并简化线上审批流程。",
    ),
    (
        "新浪财经",
        "信用卡发卡量连续下降 银行转向存量经营",
        "最新数据显示，信用卡和借贷合一卡数量环比下降，多家银行转向存量客户精细化经营。",
    ),
    (
        "证券时讯",
        "理财子公司规模回升 固收类产品受青睐",
        "截至三季度末，银行理财存续规模回升至30万亿元以上，固收类产品占比超九成。",
    ),
]
NOISE_WEIBO = [
    "今天滨海降温了，出门记得加衣服",
    "周末去东岳银行办了张白金卡，送了个行李箱，还不错",
    "终于发工资了，先还信用卡",
    "有人推荐靠谱的货币基金吗",
    "今天的晚霞好美",
    "双十二准备囤点什么",
    "股市又绿了，心态崩了",
    "东岳银行的手机银行界面改版了，好用多了",
]
HUAXIN_MARKETING = [
    (
        "华信银行安心账户全新升级：开户即享免年费、免转账手续费",
        "华信银行“安心账户”全新升级，新开户客户享受免年费、跨行转账免手续费等多项权益。",
    ),
    (
        "华信银行双十二理财节：新客专享理财年化3.5%",
        "华信银行双十二理财节火热进行中，新客专享理财产品业绩比较基准3.5%，限时抢购。",
    ),
    (
        "华信银行荣获“年度最佳手机银行”奖",
        "在近日举行的金融科技峰会上，华信手机银行荣获“年度最佳手机银行”奖项。",
    ),
    (
        "华信银行助力小微企业 专项贷款投放超百亿元",
        "华信银行今年以来累计投放小微企业专项贷款超百亿元，支持实体经济发展。",
    ),
]
JOBS = [
    (
        "华信银行2027届秋季校园招聘正式启动",
        "华信银行2027届秋季校园招聘正式启动，招聘岗位包括管培生、金融科技、客户经理等，欢迎投递。",
    ),
    (
        "华信银行滨海分行社会招聘：理财经理若干名",
        "华信银行滨海分行招聘理财经理若干名，要求本科以上学历，持有AFP证书者优先。",
    ),
    ("华信电子厂招聘普工 包吃住 月薪6000+", "华信电子厂长期招聘普工，包吃住，月薪6000元以上，欢迎老乡介绍。"),
    ("华信银行信用卡中心招聘催收专员", "华信银行信用卡中心招聘催收专员，底薪加提成，五险一金。"),
]
WEIBO_USERS = [
    "滨江小鱼儿",
    "理财小白日记",
    "打工人阿杰",
    "奶茶续命中",
    "半糖去冰",
    "月光族小王",
    "会计老张",
    "海边的卡夫卡2019",
    "今天也要加油鸭",
    "滨海吃货团",
    "省钱小能手",
    "程序员阿亮",
    "宝妈日常",
    "不想上班的周一",
    "晴天小猪",
    "老陈说财经",
]
BIGV_USERS = [("财经评论员老K", 1_260_000), ("金融八卦女", 830_000), ("信用卡那些事儿", 420_000)]
TWITTER_USERS = [
    ("ChinaBankWatch", 85_000),
    ("asia_credit_guy", 12_400),
    ("FinTwitAsia", 230_000),
    ("emerging_mkts_pm", 41_000),
]


# --- building --------------------------------------------------------------------------------------


def _fmt_local(at: datetime, pattern: str) -> str:
    return at.astimezone(SHANGHAI).strftime(pattern)


def _cn_date(at: datetime) -> str:
    local = at.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def build_scenario(now: datetime, seed: int = 20261128) -> Scenario:
    """The whole story, laid out so that it ends shortly before ``now``."""
    now = ensure_utc(now)
    rng = random.Random(seed)
    start = now - timedelta(days=4, hours=2)
    sc = Scenario(now=now, start=start)
    counter = [0]

    def at(hours: float, jitter: float = 0.0) -> datetime:
        t = start + timedelta(hours=hours + (rng.uniform(-jitter, jitter) if jitter else 0.0))
        return min(t, now - timedelta(minutes=5))

    def nid(prefix: str) -> str:
        counter[0] += 1
        return f"{prefix}{counter[0]:05d}{rng.randrange(1000, 9999)}"

    def add(t: datetime, source: str, kind: str = "story", **item: Any) -> dict[str, Any]:
        sc.items.append(ScenarioItem(at=t, source=source, item=item, kind=kind))
        return item

    # Day 1 evening: the first complaint
    t0 = at(0)
    first_id = nid("HM")
    add(
        t0,
        "黑猫投诉",
        id=first_id,
        title="华信银行信用卡分期未告知收取手续费，储蓄卡被扣小额账户管理费",
        text=COMPLAINT,
        url=f"https://tousu.sina.com.cn/complaint/view/{first_id}/",
        author="黑猫用户7x3k9",
        followers=12,
        comments=3,
        likes=8,
        published=("cn", t0),
    )
    # more complaints over days 1-3
    for i in range(22):
        t = at(rng.uniform(2, 70))
        cid = nid("HM")
        text = rng.choice(COMPLAINT_VARIANTS).format(
            fee=rng.choice([360, 540, 720, 1080, 1440]), months=rng.randint(3, 18)
        )
        add(
            t,
            "黑猫投诉",
            id=cid,
            title=text[:28],
            text=text,
            url=f"https://tousu.sina.com.cn/complaint/view/{cid}/",
            author=f"黑猫用户{rng.randrange(16**5):05x}",
            followers=rng.randint(0, 50),
            likes=rng.randint(0, 40),
            published=("cn", t),
        )
        if i % 7 == 0:  # the first complaint copy-pasted by another victim (near-duplicate)
            add(
                t + timedelta(minutes=20),
                "黑猫投诉",
                kind="repost",
                id=nid("HM"),
                title="华信银行分期手续费未告知，同样遭遇",
                text="我也一样！" + COMPLAINT[: len(COMPLAINT) - 12] + "请平台帮忙。",
                author=f"黑猫用户{rng.randrange(16**5):05x}",
                followers=rng.randint(0, 30),
                published=("cn", t + timedelta(minutes=20)),
            )
    # Day 2: Weibo users
    for _ in range(60):
        t = at(rng.uniform(12, 80))
        add(
            t,
            "新浪微博",
            id=nid("WB"),
            text=rng.choice(WEIBO_OPENERS) + rng.choice(WEIBO_POSTS) + rng.choice(WEIBO_CLOSERS),
            url=f"https://weibo.com/{rng.randrange(10**9, 10**10)}/{nid('P')}",
            author=rng.choice(WEIBO_USERS),
            followers=rng.choice([35, 120, 480, 1_300, 2_600, 9_800]),
            reposts=rng.randint(0, 30),
            comments=rng.randint(0, 60),
            likes=rng.randint(0, 200),
            published=("weibo", t),
        )
    # Day 2 noon: the big V post and its repost flood
    tv = at(20)
    bigv_id = nid("WB")
    add(
        tv,
        "微博大V",
        id=bigv_id,
        text=BIGV,
        url=f"https://weibo.com/1822796164/{bigv_id}",
        author=BIGV_USERS[0][0],
        followers=BIGV_USERS[0][1],
        reposts=1860,
        comments=972,
        likes=5430,
        views=2_100_000,
        published=("weibo", tv),
    )
    for _ in range(140):
        t = tv + timedelta(minutes=rng.expovariate(1 / 300))
        t = min(t, now - timedelta(minutes=5))
        chain = f"//@{BIGV_USERS[0][0]}:{BIGV}"
        if rng.random() < 0.2:
            chain = f"//@{rng.choice(WEIBO_USERS)}:{rng.choice(REPOST_COMMENTS)}{chain}"
        add(
            t,
            "新浪微博",
            kind="repost",
            id=nid("WB"),
            text=f"{rng.choice(REPOST_COMMENTS)}{chain}",
            url=f"https://weibo.com/{rng.randrange(10**9, 10**10)}/{nid('R')}",
            author=rng.choice(WEIBO_USERS) + str(rng.randint(1, 99)),
            followers=rng.choice([12, 56, 230, 800, 1_500, 4_200, 18_000]),
            reposts=rng.randint(0, 5),
            comments=rng.randint(0, 8),
            likes=rng.randint(0, 30),
            published=("weibo", t),
        )
    # other influencers join
    for name, followers in BIGV_USERS[1:]:
        t = at(rng.uniform(24, 34))
        add(
            t,
            "微博大V",
            id=nid("WB"),
            text=f"{rng.choice(WEIBO_POSTS)} 大家评论区说说自己的遭遇 #华信银行分期手续费#",
            url=f"https://weibo.com/{rng.randrange(10**9, 10**10)}/{nid('V')}",
            author=name,
            followers=followers,
            reposts=rng.randint(300, 900),
            comments=rng.randint(200, 700),
            likes=rng.randint(1000, 4000),
            published=("weibo", t),
        )
    # WeChat explainer
    t = at(40)
    add(
        t,
        "微信公众号",
        id=nid("WX"),
        title="一文看懂：银行分期的“0利息”到底有多贵？以华信银行为例",
        text="分期手续费按初始本金每期收取，本金却逐月减少。以华信银行0.75%/期、12期为例，实际年化约16.5%。"
        "小额账户管理费方面，代发工资账户本应免收。本文教你三步查清自己是否被多收费用。",
        url=f"https://mp.weixin.qq.com/s/{nid('MP')}",
        author="银行圈那些事",
        followers=260_000,
        reposts=3400,
        likes=8800,
        views=100_001,
        published=("iso", t),
    )
    # Forums (days 2-4)
    for text in XUEQIU:
        t = at(rng.uniform(26, 90))
        add(
            t,
            "雪球",
            id=nid("XQ"),
            text=text,
            url=f"https://xueqiu.com/{rng.randrange(10**9, 10**10)}/{rng.randrange(10**8, 10**9)}",
            author=rng.choice(["价值投资老王", "银行股研究员", "长线持有者", "滨海散户"]),
            followers=rng.choice([800, 5_600, 23_000, 61_000]),
            comments=rng.randint(5, 120),
            likes=rng.randint(10, 300),
            published=("dash", t),
        )
    for text in TIEBA * 3:
        t = at(rng.uniform(22, 92))
        add(
            t,
            "百度贴吧",
            id=nid("TB"),
            title=text[:24],
            text=text + rng.choice(["", "，顶一下", "，同问", "。有结果了来更新"]),
            url=f"https://tieba.baidu.com/p/{rng.randrange(10**9, 10**10)}",
            author=f"华信{rng.choice(['受害者', '储户', '老用户', '路人'])}{rng.randint(1, 999)}",
            followers=rng.randint(0, 300),
            comments=rng.randint(0, 80),
            published=("dash", t),
        )
    for title, answer in ZHIHU:
        for k in range(3):
            t = at(rng.uniform(30, 92))
            add(
                t,
                "知乎",
                id=nid("ZH"),
                title=title,
                text=answer
                if k == 0
                else answer[: len(answer) // 2]
                + rng.choice(["补充：我也被收了。", "以上，供参考。", "同意楼上。"]),
                url=f"https://www.zhihu.com/question/{rng.randrange(10**8, 10**9)}/answer/{rng.randrange(10**9, 10**10)}",
                author=rng.choice(["金融民工", "信用卡研究员", "法律人小李", "匿名用户"]),
                followers=rng.choice([150, 3_200, 48_000]),
                likes=rng.randint(5, 2_000),
                comments=rng.randint(0, 200),
                published=("dash", t),
            )
    # Day 3 morning: the bank's statement, and reactions
    to = at(58)
    add(
        to,
        "微博大V",
        id=nid("WB"),
        title="关于客户反映信用卡分期手续费及小额账户管理费问题的情况说明",
        text=OFFICIAL,
        url=f"https://weibo.com/2011223344/{nid('O')}",
        author="华信银行",
        followers=1_050_000,
        reposts=820,
        comments=2_300,
        likes=1_100,
        published=("weibo", to),
    )
    t2 = at(63)
    add(
        t2,
        "微博大V",
        id=nid("WB"),
        text=BIGV2,
        url=f"https://weibo.com/1822796164/{nid('V')}",
        author=BIGV_USERS[0][0],
        followers=BIGV_USERS[0][1],
        reposts=940,
        comments=610,
        likes=3300,
        published=("weibo", t2),
    )
    for _ in range(45):
        t = min(t2 + timedelta(minutes=rng.expovariate(1 / 240)), now - timedelta(minutes=5))
        add(
            t,
            "新浪微博",
            kind="repost",
            id=nid("WB"),
            text=f"{rng.choice(REPOST_COMMENTS)}//@{BIGV_USERS[0][0]}:{BIGV2}",
            author=rng.choice(WEIBO_USERS) + str(rng.randint(100, 199)),
            followers=rng.choice([20, 300, 1_100, 6_000]),
            likes=rng.randint(0, 20),
            published=("weibo", t),
        )
    for text in OFFICIAL_REACTIONS * 3:
        t = at(rng.uniform(58, 94))
        add(
            t,
            "新浪微博",
            id=nid("WB"),
            text=rng.choice(WEIBO_OPENERS) + text + rng.choice(WEIBO_CLOSERS),
            author=rng.choice(WEIBO_USERS),
            followers=rng.choice([60, 900, 3_000]),
            comments=rng.randint(0, 40),
            likes=rng.randint(0, 150),
            published=("weibo", t),
        )
    # Day 3: financial and local media (and portal copies of them)
    for k, (source, title, text, path) in enumerate(MEDIA):
        t = at(54 + 5 * k, 1.0)
        add(
            t,
            source,
            id=nid("NEWS"),
            title=title,
            text=text,
            url=f"https://{path}?utm_source=weibo&spm=a2c4.1",
            author=f"{source}记者",
            views=rng.randint(20_000, 300_000),
            comments=rng.randint(10, 400),
            published=("iso", t),
        )
        for _ in range(2):  # syndicated copies on portals: near-duplicates
            tc = t + timedelta(minutes=rng.randint(30, 240))
            add(
                tc,
                "新浪财经",
                kind="repost",
                id=nid("SYN"),
                title=title,
                text=f"（来源：{source}）" + text + rng.choice(["", "（责任编辑：王芳）", "（编辑：李明）"]),
                url=f"https://finance.sina.example.cn/roll/{nid('R')}.shtml",
                author="新浪财经",
                views=rng.randint(5_000, 50_000),
                published=("iso", tc),
            )
    # Day 4: central media commentary
    source, title, text, path = CENTRAL
    tc = at(80)
    add(
        tc,
        source,
        id=nid("ZJ"),
        title=title,
        text=text,
        url=f"https://{path}",
        author="中经观察网评论员",
        views=820_000,
        comments=1_200,
        published=("iso", tc),
    )
    # English coverage
    for k, (title, text) in enumerate(ENGLISH_WIRE):
        t = at(72 + 16 * k, 0.5)
        add(
            t,
            "Asia Finance Wire",
            id=nid("AFW"),
            title=title,
            text=text,
            url=f"https://www.asiafinancewire.example.com/news/{nid('EN')}",
            author="Asia Finance Wire staff",
            lang="en",
            published=("rfc", t),
        )
    for k in range(12):
        t = at(rng.uniform(70, 95))
        name, followers = rng.choice(TWITTER_USERS)
        add(
            t,
            "X (Twitter)",
            id=nid("TW"),
            text=TWEETS[k % len(TWEETS)]
            + ("" if k < len(TWEETS) else rng.choice([" 🧵", " (via @ChinaBankWatch)", ""])),
            url=f"https://x.com/{name}/status/{rng.randrange(10**18, 10**19)}",
            author=name,
            followers=followers,
            reposts=rng.randint(0, 400),
            likes=rng.randint(0, 2_000),
            published=("en_rel", t),
        )
    # Day 4 afternoon: the regulator
    for title, text in REGULATOR:
        t = at(88)
        add(
            t,
            "滨海监管局",
            id=nid("REG"),
            title=title,
            text=text,
            url=f"https://www.nfra.gov.cn/binhai/{nid('G')}.html",
            author="国家金融监督管理总局滨海监管局",
            published=("iso", t),
        )
    for _ in range(8):
        t = at(rng.uniform(88, 96))
        add(
            t,
            "新浪微博",
            id=nid("WB"),
            text=rng.choice(
                [
                    "监管出手了！滨海监管局要求华信银行整改分期业务费率披露 #华信银行分期手续费#",
                    "华信银行被监管点名，这下退费应该有戏了",
                    "终于等到监管表态，华信银行这次要好好整改",
                ]
            ),
            author=rng.choice(WEIBO_USERS),
            followers=rng.choice([200, 5_000, 12_000]),
            reposts=rng.randint(0, 100),
            likes=rng.randint(0, 500),
            published=("weibo", t),
        )
    # Noise across the four days
    for _ in range(3):
        for source, title, text in NOISE_NEWS:
            t = at(rng.uniform(0, 96))
            add(
                t,
                source,
                kind="noise",
                id=nid("N"),
                title=title,
                text=text,
                url=f"https://finance.sina.example.cn/stock/{nid('S')}.shtml",
                author=source,
                views=rng.randint(1_000, 40_000),
                published=("iso", t),
            )
    for _ in range(55):
        t = at(rng.uniform(0, 96))
        add(
            t,
            "新浪微博",
            kind="noise",
            id=nid("WB"),
            text=rng.choice(NOISE_WEIBO) + rng.choice(["", "～", "！", " [哈哈]"]),
            author=rng.choice(WEIBO_USERS),
            followers=rng.choice([30, 500, 2_000]),
            likes=rng.randint(0, 80),
            published=("weibo", t),
        )
    for title, text in HUAXIN_MARKETING * 2:
        t = at(rng.uniform(0, 96))
        add(
            t,
            "微信公众号",
            kind="noise",
            id=nid("WX"),
            title=title,
            text=text,
            url=f"https://mp.weixin.qq.com/s/{nid('M')}",
            author="华信银行",
            followers=880_000,
            likes=rng.randint(50, 600),
            published=("iso", t),
        )
    for title, text in JOBS * 2:
        t = at(rng.uniform(0, 96))
        add(
            t,
            "招聘网站",
            kind="noise",
            id=nid("JOB"),
            title=title,
            text=text,
            url=f"https://jobs.example.cn/position/{nid('J')}",
            author="招聘",
            published=("dash", t),
        )
    # Malformed vendor pushes (quarantine): a truncated body, and items the connector must reject
    bad_at = at(30)
    sc.bad_payloads.append(
        (
            bad_at,
            "新浪微博",
            b'{"source": "\xe6\x96\xb0\xe6\xb5\xaa\xe5\xbe\xae\xe5\x8d\x9a", "items": [{"id": "WB-trunc", "text": "\xe5\x8d\x8e\xe4\xbf\xa1',
        )
    )
    sc.bad_payloads.append(
        (
            at(50),
            "百度贴吧",
            json.dumps(
                {
                    "source": "百度贴吧",
                    "items": [{"id": "TB-empty", "title": "", "text": ""}, {"id": "TB-bad", "text": 12345}],
                },
                ensure_ascii=False,
            ).encode("utf-8"),
        )
    )
    sc.items.sort(key=lambda s: (s.at, s.item.get("id", "")))
    return sc


def render_published(spec: Any, fetched: datetime) -> Any:
    """The publish time as the platform shows it at ``fetched`` (exercises the time parser)."""
    if not isinstance(spec, tuple):
        return spec
    style, t = spec
    delta = fetched - t
    if style == "weibo":
        minutes = int(delta.total_seconds() // 60)
        if minutes < 1:
            return "刚刚"
        if minutes < 60:
            return f"{minutes}分钟前"
        if t.astimezone(SHANGHAI).date() == fetched.astimezone(SHANGHAI).date():
            return _fmt_local(t, "今天 %H:%M")
        return _fmt_local(t, "%m-%d %H:%M")
    if style == "cn":
        return _cn_date(t)
    if style == "dash":
        return _fmt_local(t, "%Y-%m-%d %H:%M")
    if style == "rfc":
        from email.utils import format_datetime

        return format_datetime(t)
    if style == "en_rel":
        minutes = int(delta.total_seconds() // 60)
        return f"{minutes} minutes ago" if minutes < 60 else t.isoformat()
    return t.astimezone(SHANGHAI).isoformat()
