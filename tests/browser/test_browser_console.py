"""The console in a real browser: Debian's Chromium (headless) driven by Playwright.

Logs in, opens the overview (charts drawn from the vendored ECharts), searches mentions (a
hostile one stays inert text: no dialog, no javascript: link), acknowledges an alert, approves and
publishes a statement, and checks the pages raise no Content-Security-Policy violation. Screenshots
go to ``test-artifacts/``. Skips when /usr/bin/chromium is missing unless YUQING_TEST_REQUIRE
lists ``browser``.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import need

CHROMIUM = os.environ.get("YUQING_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
pytestmark = pytest.mark.browser


def need_browser() -> None:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            pass
        else:
            return
    need(
        "browser",
        f"headless Chromium not available at {CHROMIUM} (apt-get install chromium) or playwright missing",
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(ctx) -> Iterator[str]:
    """The console app served by a real uvicorn on 127.0.0.1 (a thread), stopped after the test."""
    need_browser()
    import uvicorn
    from web_support import fast_hashing

    from yuqing.web.app import create_app

    fast_hashing(ctx)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser():
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def _watch(page, problems: list[str], dialogs: list[str]) -> None:
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on(
        "console",
        lambda m: (
            problems.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))


def _login(page, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _logout(page) -> None:
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login")


def test_console_end_to_end(ctx, server, browser) -> None:
    from web_support import (
        COMPLIANCE,
        LEGAL,
        PASSWORD,
        PR,
        XSS_TITLE,
        seed_alert,
        seed_incident,
        seed_mentions,
    )

    from yuqing.web import auth

    ARTIFACTS.mkdir(exist_ok=True)
    seed_mentions(ctx, n=6)
    alert_id = seed_alert(ctx)
    inc_id, st_id = seed_incident(ctx)
    auth.add_user(ctx, "lin.xiao", PASSWORD, ["monitor"])
    auth.add_user(ctx, LEGAL, PASSWORD, ["approver"])
    auth.add_user(ctx, COMPLIANCE, PASSWORD, ["approver"])
    auth.add_user(ctx, PR, PASSWORD, ["responder"])

    problems: list[str] = []
    dialogs: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _watch(page, problems, dialogs)

    # login and overview with its charts
    page.goto(f"{server}/")
    assert "/login" in page.url
    _login(page, server, "lin.xiao", PASSWORD)
    assert page.url.rstrip("/") == server
    page.wait_for_selector("#chart-volume[data-ready='1'] canvas", timeout=15000)
    page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)

    # mention search (Chinese), hostile content inert
    page.goto(f"{server}/mentions")
    page.fill("input[name=q]", "排队")
    page.click("#mention-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    titles = page.locator("#mention-stream .mention .title").all_inner_texts()
    assert titles and all("排队" in t for t in titles)
    page.goto(f"{server}/mentions")
    assert page.get_by_text(XSS_TITLE).count() == 1  # rendered as text
    assert page.locator("a[href^='javascript:']").count() == 0
    assert page.locator("#mention-stream script, #mention-stream img").count() == 0
    page.screenshot(path=str(ARTIFACTS / "mentions.png"), full_page=True)

    # acknowledge an alert
    page.goto(f"{server}/alerts")
    page.click(f"tr[data-alert='{alert_id}'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{server}/alerts?status=acked")
    assert "lin.xiao" in page.locator(f"tr[data-alert='{alert_id}']").inner_text()
    page.screenshot(path=str(ARTIFACTS / "alerts.png"), full_page=True)
    _logout(page)

    # approve (two steps of the chain) and publish a statement in the incident room
    statement = f"[data-statement='{st_id}']"
    for approver in (LEGAL, COMPLIANCE):
        _login(page, server, approver, PASSWORD)
        page.goto(f"{server}/incidents/{inc_id}")
        page.click(f"{statement} button.approve")
        page.wait_for_load_state("networkidle")
        _logout(page)
    _login(page, server, PR, PASSWORD)
    page.goto(f"{server}/incidents/{inc_id}")
    assert page.locator(f"{statement} .st-status").inner_text() == "已批准"
    page.fill(f"{statement} input[name=link]", "https://weibo.example/statement/1")
    page.click(f"{statement} button.publish-button")
    page.wait_for_load_state("networkidle")
    assert page.locator(f"{statement} .st-status").inner_text() == "已发布"
    page.wait_for_selector(".countdown")
    page.screenshot(path=str(ARTIFACTS / "incident-room.png"), full_page=True)

    # a phone
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    _watch(phone, problems, dialogs)
    _login(phone, server, PR, PASSWORD)
    phone.goto(f"{server}/mentions?lang=en")
    assert phone.locator("button[type=submit].primary").first.inner_text() == "Search"
    phone.screenshot(path=str(ARTIFACTS / "mentions-phone.png"), full_page=True)

    assert dialogs == [], dialogs  # no script from a mention ever ran
    assert problems == [], problems  # no CSP violation, no page error
