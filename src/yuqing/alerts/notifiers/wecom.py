"""WeCom (企业微信) group robot: ``POST {url}`` (``.../cgi-bin/webhook/send?key=KEY``) with a markdown
message; the person's ``wecom_id`` is @-mentioned. Success: ``{"errcode": 0}``."""

from __future__ import annotations

from yuqing.alerts.messages import RenderedMessage
from yuqing.alerts.notifiers.base import IDEMPOTENCY_HEADER, Contact, HttpChannelConfig, HttpNotifier
from yuqing.alerts.notifiers.robots import check_errcode, clip_utf8


class WecomConfig(HttpChannelConfig):
    pass


class WecomNotifier(HttpNotifier):
    Config = WecomConfig
    needs_address = False

    def send(self, message: RenderedMessage, to: Contact, idempotency_key: str) -> None:
        content = message.markdown + (f"\n<@{to.address}>" if to.address else "")
        body = {"msgtype": "markdown", "markdown": {"content": clip_utf8(content, 4000)}}
        resp = self.post(self.config.url, json_body=body, headers={IDEMPOTENCY_HEADER: idempotency_key})
        check_errcode(self.name, resp, "errcode")
