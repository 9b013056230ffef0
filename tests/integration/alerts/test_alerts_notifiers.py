"""Every notifier against a real local receiver on 127.0.0.1: SMTP (aiosmtpd, plain and
STARTTLS + AUTH with a self-signed certificate) and HTTP receivers that verify each signature."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from yuqing.alerts.messages import AlertView, MentionLink, render
from yuqing.alerts.notifiers.base import Contact, DeliveryError, build_channel, load_channels
from yuqing.alerts.notifiers.webhook import verify
from yuqing.errors import ConfigError

WEBHOOK_SECRET = "webhook-secret-123"
DING_SECRET = "SECdingtalk-secret"
FEISHU_SECRET = "feishu-secret"


def _message() -> Any:
    view = AlertView(
        alert_id=42,
        kind="event",
        title="某银行网点排长队<script>",
        level="II",
        reasons=("多家财经媒体转载", "负面占比 78%"),
        numbers={"mention_count": 120, "negative_share": 0.78},
        platforms=("weibo", "news"),
        mentions=(MentionLink("储户：取不出钱", "https://news.example.com/a?id=1", "news"),),
        ack_url="http://127.0.0.1:8000/alerts/ack?token=abc",
        raised_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
    )
    return render(view, "Asia/Shanghai")


# --- HTTP receiver -----------------------------------------------------------------------------


class Receiver:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_paths: set[str] = set()
        self.verdicts: list[tuple[str, bool]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                req = {
                    "path": parts.path,
                    "query": parse_qs(parts.query),
                    "headers": dict(self.headers),
                    "body": body,
                }
                outer.requests.append(req)
                status, reply = outer.answer(req)
                data = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def answer(self, req: dict[str, Any]) -> tuple[int, Any]:
        path = req["path"]
        if path in self.fail_paths:
            return 500, {"error": "down"}
        h = req["headers"]
        if path == "/webhook":
            ok = verify(
                WEBHOOK_SECRET, h["X-Yuqing-Timestamp"], req["body"], h["X-Yuqing-Signature"], now=time.time()
            )
            self.verdicts.append((path, ok))
            return (200, {"ok": True}) if ok else (401, {"error": "bad signature"})
        if path == "/wecom":
            return 200, {"errcode": 0, "errmsg": "ok"}
        if path == "/dingtalk":
            ts, sign = req["query"]["timestamp"][0], req["query"]["sign"][0]
            mac = hmac.new(DING_SECRET.encode(), f"{ts}\n{DING_SECRET}".encode(), hashlib.sha256).digest()
            ok = base64.b64encode(mac).decode() == sign and abs(time.time() * 1000 - int(ts)) < 3600_000
            self.verdicts.append((path, ok))
            return 200, {"errcode": 0 if ok else 310000, "errmsg": "ok" if ok else "sign not match"}
        if path == "/feishu":
            doc = json.loads(req["body"])
            key = f"{doc['timestamp']}\n{FEISHU_SECRET}".encode()
            ok = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode() == doc["sign"]
            self.verdicts.append((path, ok))
            return 200, {"code": 0 if ok else 19021, "msg": "success" if ok else "sign match fail"}
        if path == "/slack":
            return 200, b"ok"
        if path == "/sms":
            return 200, {"code": "0", "msg": "sent"}
        if path == "/robot-error":
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        return 404, {}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _chan(name: str, d: dict[str, Any]) -> Any:
    return build_channel(name, d, timeout=5)


TO = Contact("zhou.ting", "周婷", "zhouting")


def test_webhook_signed_json_with_idempotency_key(receiver: Receiver) -> None:
    ch = _chan("hook", {"type": "webhook", "url": receiver.url + "/webhook", "secret": WEBHOOK_SECRET})
    ch.send(_message(), TO, "yq-alert-42/zhou.ting/hook/initial")
    req = receiver.requests[-1]
    assert receiver.verdicts == [("/webhook", True)]
    assert req["headers"]["Idempotency-Key"] == "yq-alert-42/zhou.ting/hook/initial"
    doc = json.loads(req["body"])
    assert doc["schema"] == "yuqing.alert.v1" and doc["alert"]["level"] == "II"
    assert doc["alert"]["top_mentions"][0]["url"] == "https://news.example.com/a?id=1"
    assert doc["recipient"]["person"] == "zhou.ting"
    bad = _chan("hook2", {"type": "webhook", "url": receiver.url + "/webhook", "secret": "wrong-secret!"})
    with pytest.raises(DeliveryError, match="401"):
        bad.send(_message(), TO, "k2")


def test_wecom_markdown_mentions_person(receiver: Receiver) -> None:
    _chan("wecom", {"url": receiver.url + "/wecom?key=abc"}).send(_message(), TO, "k")
    doc = json.loads(receiver.requests[-1]["body"])
    assert doc["msgtype"] == "markdown" and "<@zhouting>" in doc["markdown"]["content"]
    assert "重大" in doc["markdown"]["content"] and "&lt;script&gt;" not in doc["markdown"]["content"]
    assert receiver.requests[-1]["query"] == {"key": ["abc"]}


def test_dingtalk_signature_verified(receiver: Receiver) -> None:
    _chan("dingtalk", {"url": receiver.url + "/dingtalk?access_token=t", "secret": DING_SECRET}).send(
        _message(), TO, "k"
    )
    assert receiver.verdicts == [("/dingtalk", True)]
    doc = json.loads(receiver.requests[-1]["body"])
    assert doc["at"]["atUserIds"] == ["zhouting"] and doc["msgtype"] == "markdown"
    wrong = _chan("ding2", {"type": "dingtalk", "url": receiver.url + "/dingtalk", "secret": "SECother"})
    with pytest.raises(DeliveryError, match="310000"):
        wrong.send(_message(), TO, "k")


def test_feishu_signature_verified(receiver: Receiver) -> None:
    _chan("feishu", {"url": receiver.url + "/feishu", "secret": FEISHU_SECRET}).send(_message(), TO, "k")
    assert receiver.verdicts == [("/feishu", True)]
    doc = json.loads(receiver.requests[-1]["body"])
    assert doc["msg_type"] == "text" and '<at user_id="zhouting">' in doc["content"]["text"]


def test_slack_and_sms_and_robot_error(receiver: Receiver) -> None:
    _chan("slack", {"url": receiver.url + "/slack"}).send(_message(), TO, "k")
    assert "<@zhouting>" in json.loads(receiver.requests[-1]["body"])["text"]
    sms = _chan(
        "sms",
        {
            "url": receiver.url + "/sms",
            "phone_field": "mobile",
            "text_field": "content",
            "params": {"sign": "华信银行"},
            "api_key": "k-123",
            "success_field": "code",
            "success_value": "0",
        },
    )
    sms.send(_message(), Contact("zhou.ting", "周婷", "+8613800000006"), "k")
    req = receiver.requests[-1]
    doc = json.loads(req["body"])
    assert doc["mobile"] == "+8613800000006" and doc["sign"] == "华信银行"
    assert "ack?token=abc" in doc["content"] and req["headers"]["Authorization"] == "Bearer k-123"
    with pytest.raises(DeliveryError, match="93000"):
        _chan("wecom", {"url": receiver.url + "/robot-error"}).send(_message(), TO, "k")
    receiver.fail_paths.add("/slack")
    with pytest.raises(DeliveryError, match="500"):
        _chan("slack", {"url": receiver.url + "/slack"}).send(_message(), TO, "k")


@pytest.mark.parametrize(
    ("name", "definition", "field"),
    [
        (
            "hook",
            {"type": "webhook", "url": "ftp://example.com/x", "secret": "12345678"},
            "channels.hook.url",
        ),
        ("hook", {"type": "webhook", "url": "file:///etc/passwd", "secret": "12345678"}, "channels.hook.url"),
        ("hook", {"type": "webhook", "url": "https://h.example.com"}, "channels.hook.secret"),
        ("email", {"host": "smtp.example.com", "from_addr": "not-an-address"}, "channels.email.from_addr"),
        ("email", {"host": "smtp.example.com", "from_addr": "a@b.c", "username": "u"}, "channels.email"),
        ("wecom", {"url": "https://qyapi.example.com", "colour": "red"}, "channels.wecom.colour"),
        ("sms", {"url": "https://sms.example.com", "format": "xml"}, "channels.sms.format"),
        ("pager", {"type": "carrier-pigeon"}, "unknown notifier 'carrier-pigeon'"),
    ],
)
def test_bad_channel_configuration_refused_naming_the_field(name: str, definition: dict, field: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_channels(None, {name: definition})
    assert field in str(exc.value)


def test_channels_file_loaded_and_validated(tmp_path: Path) -> None:
    p = tmp_path / "channels.yaml"
    p.write_text("channels:\n  ops: {type: slack, url: 'https://hooks.slack.example/x'}\n", encoding="utf-8")
    chans = load_channels(str(p), {"ops": {"enabled": False}, "file": {"directory": str(tmp_path)}})
    assert set(chans) == {"file"}
    p.write_text("channels:\n  ops: {type: slack, url: 'gopher://x'}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"channels\.ops\.url"):
        load_channels(str(p), {})


# --- SMTP -------------------------------------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[Any, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope, envelope.original_content or envelope.content))
        return "250 OK"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_email_plain_smtp_chinese_subject_and_parts() -> None:
    sink = Sink()
    ctl = Controller(sink, hostname="127.0.0.1", port=_free_port())
    ctl.start()
    try:
        ch = _chan("email", {"host": "127.0.0.1", "port": ctl.port, "from_addr": "yuqing@bank.example"})
        ch.send(
            _message(),
            Contact("zhou.ting", "周婷", "zhou.ting@bank.example"),
            "yq-alert-42/zhou.ting/email/initial",
        )
    finally:
        ctl.stop()
    envelope, raw = sink.messages[0]
    assert envelope.rcpt_tos == ["zhou.ting@bank.example"]
    header_block = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # headers are pure ASCII (RFC 2047)
    assert "=?utf-8?" in header_block.lower()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert "重大" in msg["Subject"] and "某银行网点排长队" in msg["Subject"]
    assert msg["To"].addresses[0].display_name == "周婷"
    assert msg["From"].addresses[0].display_name == "舆情监测系统"
    assert msg["Idempotency-Key"] == "yq-alert-42/zhou.ting/email/initial"
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "原因 / Why" in plain and "https://news.example.com/a?id=1" in plain
    assert "&lt;script&gt;" in html and "<script>" not in html


@pytest.fixture
def self_signed(make_certificate: Callable[[str, str], tuple[Path, Path]]) -> tuple[str, str]:
    cert, key = make_certificate("127.0.0.1", "IP:127.0.0.1")
    return str(cert), str(key)


def test_email_starttls_and_auth(self_signed: tuple[str, str]) -> None:
    cert, key = self_signed
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    logins: list[str] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == b"alerts"
            and auth_data.password == b"s3cret"
        )
        if ok:
            logins.append(mechanism)
        return AuthResult(success=ok)

    sink = Sink()
    ctl = Controller(
        sink,
        hostname="127.0.0.1",
        port=_free_port(),
        tls_context=tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    ctl.start()
    try:
        base = {
            "host": "127.0.0.1",
            "port": ctl.port,
            "from_addr": "yuqing@bank.example",
            "security": "starttls",
            "ca_file": cert,
        }
        ch = _chan("email", {**base, "username": "alerts", "password": "s3cret"})
        ch.send(_message(), Contact("zhou.ting", "周婷", "zhou.ting@bank.example"), "k1")
        assert len(sink.messages) == 1 and logins
        with pytest.raises(DeliveryError):
            _chan("email", {**base, "username": "alerts", "password": "wrong", "timeout": 1}).send(
                _message(), Contact("z", "Z", "z@bank.example"), "k2"
            )
        with pytest.raises(DeliveryError):  # the certificate is not trusted without ca_file
            _chan("email", {**base, "ca_file": None, "username": "alerts", "password": "s3cret"}).send(
                _message(), Contact("z", "Z", "z@bank.example"), "k3"
            )
        assert len(sink.messages) == 1
    finally:
        ctl.stop()
