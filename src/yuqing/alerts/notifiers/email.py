"""Email over SMTP: HTML + plain text, Chinese subject and names RFC 2047-encoded, STARTTLS or
implicit TLS, optional AUTH. The idempotency key travels as ``Idempotency-Key`` and in a stable
``Message-ID`` so a resend after a crash is recognisable by the receiving side."""

from __future__ import annotations

import mimetypes
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from yuqing.alerts.messages import RenderedMessage
from yuqing.alerts.notifiers.base import (
    IDEMPOTENCY_HEADER,
    ChannelConfig,
    Contact,
    DeliveryError,
    Notifier,
    key_digest,
)


class EmailConfig(ChannelConfig):
    host: str = Field(min_length=1)
    port: int = Field(25, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "none"
    username: str | None = None
    password: SecretStr | None = None
    from_addr: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    from_name: str = "舆情监测系统"
    verify_tls: bool = True
    ca_file: str | None = None

    @model_validator(mode="after")
    def _auth(self) -> EmailConfig:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        return self


def build_message(
    config: EmailConfig, message: RenderedMessage, to: Contact, idempotency_key: str
) -> EmailMessage:
    if not to.address or "@" not in to.address:
        raise DeliveryError(f"无效邮箱 / no valid email address for {to.person}")
    msg = EmailMessage()
    msg["Subject"] = message.subject
    local, _, domain = config.from_addr.partition("@")
    msg["From"] = Address(display_name=config.from_name, username=local, domain=domain)
    rlocal, _, rdomain = to.address.partition("@")
    msg["To"] = Address(display_name=to.name, username=rlocal, domain=rdomain)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = f"<{key_digest(idempotency_key)}@yuqing.{domain}>"
    msg[IDEMPOTENCY_HEADER] = idempotency_key
    msg.set_content(message.text, charset="utf-8")
    msg.add_alternative(message.html, subtype="html", charset="utf-8")
    for path in message.attachments:
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return msg


class EmailNotifier(Notifier):
    Config = EmailConfig
    config: EmailConfig

    def _tls(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.config.ca_file)
        if not self.config.verify_tls:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def send(self, message: RenderedMessage, to: Contact, idempotency_key: str) -> None:
        c = self.config
        msg = build_message(c, message, to, idempotency_key)
        smtp: smtplib.SMTP | None = None
        try:
            if c.security == "ssl":
                smtp = smtplib.SMTP_SSL(c.host, c.port, timeout=self.timeout, context=self._tls())
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=self.timeout)
            if c.security == "starttls":
                smtp.starttls(context=self._tls())
            if c.username is not None and c.password is not None:
                smtp.login(c.username, c.password.get_secret_value())
            smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            if smtp is not None:
                smtp.close()  # no QUIT on a broken session: it would wait for the timeout
            raise DeliveryError(
                f"邮件发送失败 / email to {to.person} failed: {type(exc).__name__}: {exc}"
            ) from exc
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()  # the message was accepted; a failed QUIT does not matter
