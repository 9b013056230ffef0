"""SMS through a configurable HTTP gateway (most Chinese SMS vendors and in-house gateways speak
some variant of "POST phone + text with an API key"). The message is short: subject and ack link.

    sms: {type: sms, url: https://sms.example.com/send, format: json, phone_field: mobile,
          text_field: content, params: {sign: 某银行}, api_key: "...", api_key_header: X-Api-Key,
          success_field: code, success_value: "0"}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr

from yuqing.alerts.messages import RenderedMessage
from yuqing.alerts.notifiers.base import (
    IDEMPOTENCY_HEADER,
    Contact,
    DeliveryError,
    HttpChannelConfig,
    HttpNotifier,
)


class SmsConfig(HttpChannelConfig):
    format: Literal["json", "form"] = "json"
    phone_field: str = "phone"
    text_field: str = "text"
    params: dict[str, str] = Field(default_factory=dict)
    api_key: SecretStr | None = None
    api_key_header: str = "Authorization"
    api_key_prefix: str = "Bearer "
    max_chars: int = Field(300, ge=20)
    success_field: str | None = None
    success_value: str = "0"


def sms_text(message: RenderedMessage, max_chars: int) -> str:
    ack = message.payload.get("ack_url") if isinstance(message.payload, dict) else None
    text = message.subject + (f" 确认/ack: {ack}" if ack else "")
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


class SmsNotifier(HttpNotifier):
    Config = SmsConfig
    config: SmsConfig

    def send(self, message: RenderedMessage, to: Contact, idempotency_key: str) -> None:
        c = self.config
        if not to.address:
            raise DeliveryError(f"无手机号 / no phone number for {to.person}")
        fields: dict[str, Any] = {
            **c.params,
            c.phone_field: to.address,
            c.text_field: sms_text(message, c.max_chars),
        }
        headers = {IDEMPOTENCY_HEADER: idempotency_key}
        if c.api_key is not None:
            headers[c.api_key_header] = c.api_key_prefix + c.api_key.get_secret_value()
        if c.format == "json":
            resp = self.post(c.url, json_body=fields, headers=headers)
        else:
            resp = self.post(c.url, data={k: str(v) for k, v in fields.items()}, headers=headers)
        if c.success_field:
            try:
                value = resp.json().get(c.success_field)
            except (ValueError, AttributeError) as exc:
                raise DeliveryError(f"短信网关响应无效 / {self.name}: {resp.text[:200]}") from exc
            if str(value) != c.success_value:
                raise DeliveryError(f"短信发送失败 / {self.name}: {c.success_field}={value}")
