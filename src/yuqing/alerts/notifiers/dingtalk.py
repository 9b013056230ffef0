"""DingTalk (钉钉) custom robot with its signing scheme: ``timestamp`` (ms) and
``sign = base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))`` as query parameters.
Markdown message, the person's ``dingtalk_id`` in ``at.atUserIds``. Success: ``{"errcode": 0}``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from pydantic import SecretStr

from yuqing.alerts.messages import RenderedMessage, one_line
from yuqing.alerts.notifiers.base import IDEMPOTENCY_HEADER, Contact, HttpChannelConfig, HttpNotifier
from yuqing.alerts.notifiers.robots import check_errcode, clip_utf8


class DingtalkConfig(HttpChannelConfig):
    secret: SecretStr | None = None  # the robot's "加签" secret (SEC...)


def sign(secret: str, timestamp_ms: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


class DingtalkNotifier(HttpNotifier):
    Config = DingtalkConfig
    config: DingtalkConfig
    needs_address = False

    def send(self, message: RenderedMessage, to: Contact, idempotency_key: str) -> None:
        params: dict[str, str] = {}
        if self.config.secret is not None:
            ts = str(int(time.time() * 1000))  # DingTalk rejects timestamps more than an hour off
            params = {"timestamp": ts, "sign": sign(self.config.secret.get_secret_value(), ts)}
        text = message.markdown + (f"\n\n@{to.address}" if to.address else "")
        body = {
            "msgtype": "markdown",
            "markdown": {"title": one_line(message.subject, 60), "text": clip_utf8(text, 18000)},
            "at": {"atUserIds": [to.address] if to.address else [], "isAtAll": False},
        }
        resp = self.post(
            self.config.url, json_body=body, params=params, headers={IDEMPOTENCY_HEADER: idempotency_key}
        )
        check_errcode(self.name, resp, "errcode")
