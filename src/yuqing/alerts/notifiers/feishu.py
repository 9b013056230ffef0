"""Feishu / Lark custom robot with its signing scheme: ``timestamp`` (s) and
``sign = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))`` in the JSON body.
A text message; the person's ``feishu_id`` is @-mentioned. Success: ``{"code": 0}`` (older
deployments answer ``{"StatusCode": 0}``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from pydantic import SecretStr

from yuqing.alerts.messages import RenderedMessage
from yuqing.alerts.notifiers.base import IDEMPOTENCY_HEADER, Contact, HttpChannelConfig, HttpNotifier
from yuqing.alerts.notifiers.robots import check_errcode, clip_utf8


class FeishuConfig(HttpChannelConfig):
    secret: SecretStr | None = None


def sign(secret: str, timestamp: str) -> str:
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


class FeishuNotifier(HttpNotifier):
    Config = FeishuConfig
    config: FeishuConfig
    needs_address = False

    def send(self, message: RenderedMessage, to: Contact, idempotency_key: str) -> None:
        mention = f'<at user_id="{to.address}">{to.name}</at> ' if to.address else ""
        body: dict[str, Any] = {
            "msg_type": "text",
            "content": {"text": clip_utf8(mention + message.text, 20000)},
        }
        if self.config.secret is not None:
            ts = str(int(time.time()))
            body.update(timestamp=ts, sign=sign(self.config.secret.get_secret_value(), ts))
        resp = self.post(self.config.url, json_body=body, headers={IDEMPOTENCY_HEADER: idempotency_key})
        check_errcode(self.name, resp, "code", "StatusCode")
