"""One typed settings object: environment variables ``YUQING_*`` over an optional TOML file.

Nested sections use ``__`` in environment names (``YUQING_HTTP__TIMEOUT=5``). The TOML file is
``$YUQING_CONFIG`` or ``./yuqing.toml`` when present. Nothing here runs at import time: call
:func:`load_settings`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from yuqing.alerts.settings import AlertSettings
from yuqing.analysis.settings import AnalysisSettings
from yuqing.errors import ConfigError
from yuqing.events.settings import EventSettings
from yuqing.incidents.settings import IncidentSettings
from yuqing.reports.settings import ReportSettings
from yuqing.sources.settings import HttpSettings, IngestSettings
from yuqing.web.settings import WebSettings

DEFAULT_CONFIG_FILE = "yuqing.toml"


class BusSettings(BaseModel):
    stream_maxlen: int = Field(100_000, ge=1000, description="Bound of each Redis stream (back-pressure)")
    claim_idle_ms: int = Field(30_000, ge=100, description="Pending messages idle this long are claimed")
    max_attempts: int = Field(5, ge=1, description="Attempts before a message goes to the dead-letter stream")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="YUQING_",
        env_nested_delimiter="__",
        extra="ignore",
        validate_default=True,
    )

    database_url: str = Field("sqlite:///yuqing.db", description="SQLAlchemy URL of the store")
    bus_url: str = Field("memory://", description="memory:// (in-process) or redis://host:port/db")
    secret_key: SecretStr = Field(
        SecretStr(""),
        description="Signs ack links, sessions and CSRF tokens. Required with PostgreSQL; on the embedded "
        "SQLite default a random key is generated once and kept in `.yuqing-secret` beside the database",
    )
    language: Literal["zh", "en"] = Field("zh", description="Default language of user-facing text")
    timezone: str = Field("Asia/Shanghai", description="Local time zone for display and working hours")
    log_level: str = Field("INFO")
    log_json: bool = Field(False, description="Structured JSON logs")

    bus: BusSettings = BusSettings()
    http: HttpSettings = HttpSettings()
    ingest: IngestSettings = IngestSettings()
    analysis: AnalysisSettings = AnalysisSettings()
    events: EventSettings = EventSettings()
    alerts: AlertSettings = AlertSettings()
    incidents: IncidentSettings = IncidentSettings()
    reports: ReportSettings = ReportSettings()
    web: WebSettings = WebSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = os.environ.get("YUQING_CONFIG") or DEFAULT_CONFIG_FILE
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if Path(path).is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        elif os.environ.get("YUQING_CONFIG"):
            raise ConfigError(f"配置文件不存在 / config file not found: {path}")
        return tuple(sources)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: Any) -> Settings:
    """Build the effective settings; a bad value becomes one :class:`ConfigError` line."""
    from pydantic import ValidationError as PydanticValidationError

    try:
        return Settings(**overrides)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"配置无效 / invalid setting {where}: {first['msg']}") from exc


def masked_dump(settings: Settings) -> dict[str, Any]:
    """Settings as plain data with every secret, and credentials inside any URL, masked."""
    from yuqing.core.logging import redact

    def walk(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return "********" if value.get_secret_value() else ""
        if isinstance(value, BaseModel):
            return {k: walk(getattr(value, k)) for k in type(value).model_fields}
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v) for v in value]
        return redact(value) if isinstance(value, str) else value

    data: dict[str, Any] = walk(settings)
    return data


def configuration_reference() -> str:
    """Markdown table of every setting: environment name, TOML key, default, description."""
    lines = [
        "| Environment variable | TOML key | Default | Description |",
        "|---|---|---|---|",
    ]

    def default_text(field: Any) -> str:
        value = field.get_default(call_default_factory=True)
        if isinstance(value, SecretStr):
            return "(secret)" if value.get_secret_value() else '""'
        text = repr(value) if not isinstance(value, str) else f'"{value}"'
        return text.replace("|", "\\|")

    def walk(model: type[BaseModel], env: str, toml: str) -> None:
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, f"{env}{name.upper()}__", f"{toml}{name}.")
                continue
            desc = (field.description or "").replace("|", "\\|")
            lines.append(f"| `{env}{name.upper()}` | `{toml}{name}` | `{default_text(field)}` | {desc} |")

    walk(Settings, "YUQING_", "")
    return "\n".join(lines) + "\n"


SECRET_FILE = ".yuqing-secret"  # noqa: S105 - a file name, not a secret


def ensure_secret_key(settings: Settings) -> None:
    """Never sign with a guessable key: generate one for the embedded store, demand one otherwise."""
    if settings.secret_key.get_secret_value():
        return
    if not settings.is_sqlite:
        raise ConfigError(
            "生产部署须设置 YUQING_SECRET_KEY / "
            "YUQING_SECRET_KEY is required outside the embedded SQLite store"
        )
    import secrets

    from sqlalchemy.engine import make_url

    database = make_url(settings.database_url).database
    folder = Path(database).resolve().parent if database and database != ":memory:" else Path.cwd()
    path = folder / SECRET_FILE
    if not path.is_file():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48))
    settings.secret_key = SecretStr(path.read_text(encoding="ascii").strip())
