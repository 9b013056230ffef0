"""Internal coordination (pure): the single agreed line (口径) and who still has to acknowledge it.

Every department head must acknowledge the current line; by default the department heads are the
management group's deputies and members (the plan's heads of marketing, compliance, customer
service, legal, PR and IT). A new version of the line needs fresh acknowledgements.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from yuqing.errors import ValidationError

MESSAGE_CHANNELS = ("meeting", "phone", "wecom", "dingtalk", "feishu", "email", "sms", "other")


@dataclass(frozen=True)
class LineStatus:
    version: int
    required: tuple[str, ...]
    acknowledged: tuple[str, ...]

    @property
    def pending(self) -> tuple[str, ...]:
        done = set(self.acknowledged)
        return tuple(k for k in self.required if k not in done)

    @property
    def complete(self) -> bool:
        return not self.pending


def line_status(version: int, required: Iterable[str], acknowledged: Iterable[str]) -> LineStatus:
    req = tuple(dict.fromkeys(required))
    acks = tuple(dict.fromkeys(k for k in acknowledged))
    return LineStatus(version, req, acks)


def check_line_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError("口径内容不能为空 / the agreed line cannot be empty")
    if len(text) > 5000:
        raise ValidationError("口径过长（≤5000 字）/ the agreed line is too long (max 5000 characters)")
    return text


def check_channel(channel: str) -> str:
    if channel not in MESSAGE_CHANNELS:
        raise ValidationError(f"未知沟通渠道 / unknown channel: {channel} ({', '.join(MESSAGE_CHANNELS)})")
    return channel
