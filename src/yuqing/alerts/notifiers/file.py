"""The file channel: writes each message to a directory (``outbox_dir``) as ``.txt`` and ``.json``.

Useful for air-gapped drills and the demo. The file name derives from the idempotency key, so a
resend after a crash overwrites the same file instead of adding a second one."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from yuqing.alerts.messages import RenderedMessage
from yuqing.alerts.notifiers.base import ChannelConfig, Contact, DeliveryError, Notifier, key_digest


class FileConfig(ChannelConfig):
    directory: str = "yuqing-demo-outbox"


class FileNotifier(Notifier):
    Config = FileConfig
    config: FileConfig
    needs_address = False

    def send(self, message: RenderedMessage, to: Contact, idempotency_key: str) -> None:
        d = Path(self.config.directory)
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", f"{to.person}-{key_digest(idempotency_key)[:16]}")
        doc = {
            "idempotency_key": idempotency_key,
            "to": {"person": to.person, "name": to.name, "address": to.address},
            "subject": message.subject,
            "alert": message.payload,
        }
        try:
            d.mkdir(parents=True, exist_ok=True)
            for suffix, content in (
                (".txt", message.text),
                (".json", json.dumps(doc, ensure_ascii=False, indent=1)),
            ):
                tmp = d / f".{stem}{suffix}.tmp"
                tmp.write_text(content, encoding="utf-8")
                os.replace(tmp, d / f"{stem}{suffix}")
        except OSError as exc:
            raise DeliveryError(f"写出失败 / file channel {self.name}: {exc}") from exc
