"""The resource inventory's readiness checks (pure).

Kinds (the plan's 物资清单): monitoring tools and media-monitoring subscriptions (with expiry dates),
social analytics tools, emergency communication equipment, spokespeople, media contacts, external
counsel, templates. A check returns problems with a stable code and a severity:

- ``expired`` (error): a dated resource past its ``expires_at``;
- ``expiring`` (warning): expires within ``expiry_warning_days``;
- ``no_channel`` (error): a contact kind with no working channel (no usable email/phone/IM address);
- ``untested`` (warning): communication equipment not tested within ``equipment_test_days``;
- ``inactive_owner`` (warning): the responsible person is inactive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from yuqing.errors import ValidationError

RESOURCE_KINDS = {
    "monitoring_tool": "监测工具 / monitoring tool",
    "subscription": "媒体监测订阅 / media-monitoring subscription",
    "social_tool": "社交分析工具 / social analytics tool",
    "equipment": "应急通讯设备 / emergency communication equipment",
    "spokesperson": "新闻发言人 / spokesperson",
    "media_contact": "媒体联系人 / media contact",
    "counsel": "外部律师 / external counsel",
    "template": "模板 / template",
    "other": "其他 / other",
}
DATED_KINDS = ("monitoring_tool", "subscription", "social_tool")
CONTACT_KINDS = ("spokesperson", "media_contact", "counsel")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")
_IM = re.compile(r"^[A-Za-z0-9_.\-@]{2,100}$")
CHANNEL_PATTERNS = {
    "email": _EMAIL,
    "phone": _PHONE,
    "sms": _PHONE,
    "wecom": _IM,
    "dingtalk": _IM,
    "feishu": _IM,
    "slack": _IM,
}


@dataclass(frozen=True)
class ResourceFacts:
    id: int
    kind: str
    name: str
    expires_at: datetime | None = None
    contacts: tuple[tuple[str, str], ...] = ()  # (channel, address)
    last_tested_at: datetime | None = None
    owner_active: bool = True
    active: bool = True


@dataclass(frozen=True)
class Problem:
    code: str
    severity: str  # error | warning
    message: str
    data: dict[str, Any] = field(default_factory=dict)


def check_kind(kind: str) -> str:
    if kind not in RESOURCE_KINDS:
        raise ValidationError(f"未知资源类型 / unknown resource kind: {kind} ({', '.join(RESOURCE_KINDS)})")
    return kind


def working_channel(channel: str, address: str) -> bool:
    pattern = CHANNEL_PATTERNS.get(channel)
    return bool(pattern and address and pattern.match(address.strip()))


def check_resource(
    r: ResourceFacts, now: datetime, *, expiry_warning_days: int = 14, equipment_test_days: int = 90
) -> list[Problem]:
    if not r.active:
        return []
    out: list[Problem] = []
    if r.expires_at is not None:
        if r.expires_at <= now:
            out.append(
                Problem(
                    "expired",
                    "error",
                    f"{r.name} 已于 {r.expires_at:%Y-%m-%d} 到期 / expired on {r.expires_at:%Y-%m-%d}",
                    {"expires_at": r.expires_at.isoformat()},
                )
            )
        elif r.expires_at <= now + timedelta(days=expiry_warning_days):
            days = (r.expires_at - now).days
            out.append(
                Problem(
                    "expiring",
                    "warning",
                    f"{r.name} 将于 {days} 天内到期 / expires in {days} days ({r.expires_at:%Y-%m-%d})",
                    {"expires_at": r.expires_at.isoformat()},
                )
            )
    elif r.kind in DATED_KINDS:
        out.append(Problem("no_expiry", "warning", f"{r.name} 未登记到期日 / no expiry date recorded"))
    if r.kind in CONTACT_KINDS and not any(working_channel(c, a) for c, a in r.contacts):
        out.append(
            Problem(
                "no_channel",
                "error",
                f"{r.name} 没有可用的联系方式 / has no working contact channel",
                {"contacts": [list(c) for c in r.contacts]},
            )
        )
    if r.kind == "equipment" and (
        r.last_tested_at is None or r.last_tested_at < now - timedelta(days=equipment_test_days)
    ):
        out.append(
            Problem(
                "untested",
                "warning",
                f"{r.name} 超过 {equipment_test_days} 天未测试 / not tested in {equipment_test_days} days",
            )
        )
    if not r.owner_active:
        out.append(Problem("inactive_owner", "warning", f"{r.name} 的负责人已停用 / owner is inactive"))
    return out


def readiness_alert_level(problem: Problem) -> str:
    return "III" if problem.severity == "error" else "IV"
