"""Signed, expiring acknowledge links (HMAC-SHA256 over alert id, person and expiry)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from yuqing.errors import PermissionDenied, ValidationError

_VERSION = "1"


class InvalidAckToken(PermissionDenied):
    code = "invalid_ack_token"


class ExpiredAckToken(PermissionDenied):
    code = "expired_ack_token"


@dataclass(frozen=True)
class AckClaim:
    alert_id: int
    person: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sig(secret: str, payload: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"yuqing-ack:{payload}".encode(), hashlib.sha256)
    return _b64(mac.digest())


def make_token(secret: str, alert_id: int, person: str, expires_at: datetime) -> str:
    if not secret:
        raise ValidationError("签名密钥为空 / secret_key is empty")
    exp = int(expires_at.astimezone(UTC).timestamp())
    payload = _b64(f"{_VERSION}|{alert_id}|{exp}|{person}".encode())
    return f"{payload}.{_sig(secret, payload)}"


def verify_token(secret: str, token: str, now: datetime) -> AckClaim:
    """The claim of a valid token; raises :class:`InvalidAckToken` / :class:`ExpiredAckToken`."""
    try:
        payload, sig = token.strip().split(".", 1)
        if not hmac.compare_digest(sig, _sig(secret, payload)):
            raise ValueError("signature")
        version, alert_id, exp, person = _unb64(payload).decode("utf-8").split("|", 3)
        if version != _VERSION:
            raise ValueError("version")
        expires_at = datetime.fromtimestamp(int(exp), UTC)
        claim = AckClaim(alert_id=int(alert_id), person=person, expires_at=expires_at)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidAckToken("确认链接无效 / invalid acknowledge link") from exc
    if now >= claim.expires_at:
        raise ExpiredAckToken("确认链接已过期 / acknowledge link expired")
    return claim


def ack_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/alerts/ack?token={token}"
