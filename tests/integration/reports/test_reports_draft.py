"""The local-language-model hook: off by default; when configured, its wording is shown marked as a draft.

A real HTTP server on 127.0.0.1 plays the OpenAI-compatible local model."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from yuqing.config import load_settings
from yuqing.core.bus import InProcessBus
from yuqing.core.clock import ManualClock
from yuqing.core.context import AppContext
from yuqing.reports.document import DRAFT_LABEL, Document
from yuqing.reports.output import draft_wording
from yuqing.reports.render_html import render


@pytest.fixture
def local_model():
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, "body": body})
            out = json.dumps({"choices": [{"message": {"content": "草拟：本日负面信息有所上升。"}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    server.shutdown()
    server.server_close()


def _ctx(**reports: Any) -> AppContext:
    settings = load_settings(database_url="sqlite://", reports=reports)
    return AppContext(settings=settings, db=None, clock=ManualClock(), bus=InProcessBus())  # type: ignore[arg-type]


def test_off_by_default_no_request():
    assert draft_wording(_ctx(), "本日共 10 条") is None


def test_configured_model_drafts_and_the_draft_is_marked(local_model):
    url, seen = local_model
    text = draft_wording(_ctx(llm_url=url, llm_model="qwen-local"), "本日共 10 条，负面 4 条")
    assert text == "草拟：本日负面信息有所上升。"
    [req] = seen
    assert req["path"] == "/v1/chat/completions" and req["body"]["model"] == "qwen-local"
    assert "本日共 10 条，负面 4 条" in req["body"]["messages"][-1]["content"]
    doc = Document(
        "brief", "标题", "", "华信银行", "内部", datetime(2026, 3, 1, tzinfo=UTC), summary="事实", draft=text
    )
    html = render(doc)
    assert DRAFT_LABEL in html and "草拟：本日负面信息有所上升。" in html and "事实" in html


def test_an_unreachable_model_is_not_fatal():
    assert draft_wording(_ctx(llm_url="http://127.0.0.1:9/v1", llm_timeout_s=1), "x") is None
