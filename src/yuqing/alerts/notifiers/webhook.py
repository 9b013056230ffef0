"""Generic webhook: a JSON document (schema ``yuqing.alert.v1``), HMAC-SHA256 signed.

Headers: ``X-Yuqing-Timestamp`` (unix seconds), ``X-Yuqing-Signature: sha256=<hex>`` where the hex
is HMAC-SHA256(secret, f"{timestamp}.{raw body}"), and ``Idempotency-Key``. See docs/alerts.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from pydantic import Field, SecretStr

from yuqing.alerts.messages import RenderedMessage
from yuqing.alerts.notifiers.base import IDEMPOTENCY_HEADER, Contact, HttpChannelConfig, HttpNotifier

SCHEMA = "yuqing.alert.v1"


class WebhookConfig(HttpChannelConfig):
    secret: SecretStr = Field(min_length=8)
    headers: dict[str, str] = Field(default_factory=dict)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: float, tolerance: float = 300
) -> bool:
    """Receiver side: the recipe documented for webhook consumers."""
    if abs(now - float(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def document(message: RenderedMessage, to: Contact, idempotency_key: str) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "idempotency_key": idempotency_key,
        "recipient": {"person": to.person, "name": to.name, "address": to.address},
        "subject": message.subject,
        "text": message.text,
        "alert": message.payload,
    }


class WebhookNotifier(HttpNotifier):
    Config = WebhookConfig
    config: WebhookConfig
    needs_address = False

    def send(self, message: RenderedMessage, to: Contact, idempotency_key: str) -> None:
        body = json.dumps(document(message, to, idempotency_key), ensure_ascii=False).encode("utf-8")
        ts = str(int(time.time()))  # wall clock on purpose: the receiver checks freshness against its own
        headers = {
            **self.config.headers,
            "Content-Type": "application/json; charset=utf-8",
            "X-Yuqing-Timestamp": ts,
            "X-Yuqing-Signature": sign(self.config.secret.get_secret_value(), ts, body),
            IDEMPOTENCY_HEADER: idempotency_key,
        }
        self.post(self.config.url, content=body, headers=headers)
