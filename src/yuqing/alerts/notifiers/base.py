"""The notifier plugin interface and channel configuration loading.

A channel is a named, configured instance of a notifier plugin::

    channels:
      email: {type: email, host: smtp.example.com, port: 587, starttls: true, ...}
      ops-webhook: {type: webhook, url: https://hooks.example.com/yuqing, secret: "..."}

A person's preferred channels (``Person.channels``, e.g. ``["wecom", "email", "sms"]``) name
channels; the address for each comes from ``yuqing.org.service.contact_points``. Bad configuration
is refused at load time with a :class:`ConfigError` naming the channel and field.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic import ValidationError as PydanticValidationError

from yuqing.alerts.messages import RenderedMessage
from yuqing.core import plugins
from yuqing.errors import ConfigError, YuqingError

IDEMPOTENCY_HEADER = "Idempotency-Key"


class DeliveryError(YuqingError):
    """A send failed; the dispatcher retries it (with back-off) or falls back to the next channel."""

    code = "delivery_failed"
    http_status = 502


@dataclass(frozen=True)
class Contact:
    person: str  # org person key
    name: str
    address: str | None  # email, phone, robot user id ... (None for a plain group robot)


def check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL")
    return value


class ChannelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    enabled: bool = True
    timeout: float | None = Field(None, gt=0, description="Seconds; default settings.alerts.send_timeout_s")


class HttpChannelConfig(ChannelConfig):
    url: str
    verify_tls: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_http_url(v)


class Notifier(ABC):
    """One configured channel. ``send`` raises :class:`DeliveryError` when the receiver refuses."""

    Config: ClassVar[type[ChannelConfig]] = ChannelConfig
    needs_address: ClassVar[bool] = True  # False: a group robot that is told who to @-mention

    def __init__(self, name: str, config: ChannelConfig, *, timeout: float = 10.0) -> None:
        self.name = name
        self.config = config
        self.timeout = config.timeout or timeout

    @abstractmethod
    def send(self, message: RenderedMessage, to: Contact, idempotency_key: str) -> None: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


class HttpNotifier(Notifier):
    """Base of the HTTP channels: one pooled client per channel."""

    config: HttpChannelConfig

    def __init__(self, name: str, config: ChannelConfig, *, timeout: float = 10.0) -> None:
        super().__init__(name, config, timeout=timeout)
        assert isinstance(config, HttpChannelConfig)
        self._client = httpx.Client(timeout=self.timeout, verify=config.verify_tls, follow_redirects=False)

    def post(
        self,
        url: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        try:
            resp = self._client.post(
                url, json=json_body, content=content, headers=headers, data=data, params=params
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"发送失败 / {self.name}: {type(exc).__name__}: {exc}") from exc
        if resp.status_code // 100 != 2:
            raise DeliveryError(f"发送失败 / {self.name}: HTTP {resp.status_code} {resp.text[:200]}")
        return resp

    def close(self) -> None:
        self._client.close()


def key_digest(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


# --- loading ---------------------------------------------------------------------------------


def channel_definitions(
    channels_file: str | None, inline: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Raw channel definitions: the YAML file's ``channels`` mapping, overlaid by inline settings."""
    defs: dict[str, dict[str, Any]] = {}
    if channels_file:
        p = Path(channels_file)
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except FileNotFoundError as exc:
            raise ConfigError(f"通道配置文件不存在 / channels file not found: {p}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"通道配置文件无法解析 / channels file is not valid YAML: {p}: {exc}") from exc
        raw = data.get("channels", data) if isinstance(data, dict) else None
        if not isinstance(raw, dict):
            raise ConfigError(f"通道配置无效 / invalid channels file {p}: expected a mapping of channels")
        defs.update(raw)
    for name, d in inline.items():
        defs[name] = {**defs.get(name, {}), **d}
    return defs


def build_channel(name: str, definition: Any, *, timeout: float = 10.0) -> Notifier:
    if not isinstance(definition, dict):
        raise ConfigError(f"通道配置无效 / invalid channel configuration channels.{name}: expected a mapping")
    definition = {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in definition.items()}
    kind = str(definition.get("type") or name)
    cls = plugins.load(plugins.NOTIFIERS, kind)
    try:
        config = cls.Config.model_validate({**definition, "type": kind})
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise ConfigError(
            f"通道配置无效 / invalid channel configuration channels.{name}.{where}: {first['msg']}"
        ) from exc
    notifier: Notifier = cls(name, config, timeout=timeout)
    return notifier


def load_channels(
    channels_file: str | None, inline: dict[str, dict[str, Any]], *, timeout: float = 10.0
) -> dict[str, Notifier]:
    """Every enabled configured channel, validated (the first bad field raises ConfigError)."""
    out: dict[str, Notifier] = {}
    for name, d in channel_definitions(channels_file, inline).items():
        n = build_channel(name, d, timeout=timeout)
        if n.config.enabled:
            out[name] = n
    return out
