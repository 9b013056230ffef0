"""Slack incoming webhook: ``{"text": ...}``; the person's ``slack_id`` is @-mentioned. Success:
HTTP 200 with body ``ok``."""

from __future__ import annotations

from yuqing.alerts.messages import RenderedMessage
from yuqing.alerts.notifiers.base import (
    IDEMPOTENCY_HEADER,
    Contact,
    DeliveryError,
    HttpChannelConfig,
    HttpNotifier,
)
from yuqing.alerts.notifiers.robots import clip_utf8


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackConfig(HttpChannelConfig):
    pass


class SlackNotifier(HttpNotifier):
    Config = SlackConfig
    needs_address = False

    def send(self, message: RenderedMessage, to: Contact, idempotency_key: str) -> None:
        mention = f"<@{slack_escape(to.address)}> " if to.address else ""
        body = {"text": clip_utf8(mention + slack_escape(message.text), 35000)}
        resp = self.post(self.config.url, json_body=body, headers={IDEMPOTENCY_HEADER: idempotency_key})
        if resp.text.strip() not in ("ok", ""):
            raise DeliveryError(f"发送失败 / {self.name}: {resp.text[:200]}")
