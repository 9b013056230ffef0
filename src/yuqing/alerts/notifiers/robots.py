"""Shared helpers of the chat-robot channels (WeCom, DingTalk, Feishu, Slack)."""

from __future__ import annotations

import httpx

from yuqing.alerts.notifiers.base import DeliveryError


def check_errcode(name: str, resp: httpx.Response, *keys: str) -> None:
    """Robot APIs answer HTTP 200 with an error code in the body; non-zero is a failure."""
    try:
        data = resp.json()
    except ValueError as exc:
        raise DeliveryError(f"发送失败 / {name}: response is not JSON: {resp.text[:200]}") from exc
    if not isinstance(data, dict):
        raise DeliveryError(f"发送失败 / {name}: unexpected response {resp.text[:200]}")
    for key in keys:
        if key in data:
            if data[key] not in (0, "0"):
                raise DeliveryError(f"发送失败 / {name}: {key}={data[key]} {str(data)[:200]}")
            return
    raise DeliveryError(f"发送失败 / {name}: no status in response {resp.text[:200]}")


def clip_utf8(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[: max_bytes - 3].decode("utf-8", "ignore") + "…"
